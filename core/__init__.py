"""The lowest layer: names, keys and layouts every other package shares. Pure Python: nothing
here imports TensorFlow, TFX or Beam, so configs and the command line load it at once."""
