"""The image data kind in the Trainer: decode and resize (one function for the input_fn and the
serving signatures), the input decoder, the image models and the serving_bytes signature."""
