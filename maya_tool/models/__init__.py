"""Autoencoders for motion: Keras training, numpy inference, model files.

``architectures`` and ``training`` import Keras/TensorFlow lazily and run in
the training process only; ``runtime`` (numpy) and ``modelfile`` (sidecars,
registry) are what Maya and the panel import.
"""
