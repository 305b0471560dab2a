"""The image data kind: a folder with one subfolder per class (or a Vertex AI import manifest),
written as tf.Examples of the original encoded bytes. spec.py is the interface every layer
shares: the feature names, and the definition's image settings."""
