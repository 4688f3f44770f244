"""Types of the compiled classifier (_classify_compiled.pyx)."""

from typing import Any

class ClassifierCore:
    def __init__(self, classifier: Any) -> None: ...
    def classify(self, aligned: Any) -> Any: ...
