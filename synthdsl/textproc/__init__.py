"""Text processing: tokens, extraction, chunking, similarity, embeddings."""
