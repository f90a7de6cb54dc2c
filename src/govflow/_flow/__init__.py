"""The top layer: ``open()``, the ``Govflow`` facade and its mixins, and the built-in plugins it wires."""
