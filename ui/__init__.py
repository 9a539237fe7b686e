"""The Gradio chat app (`rag ui`)."""
