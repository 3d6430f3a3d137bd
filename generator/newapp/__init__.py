"""newapp: answer when-to-use questions, get Flask or FastAPI with reasons, and a project."""

from newapp.recommend import Reason, Recommendation, recommend

__version__ = "0.2.0"

__all__ = ["Reason", "Recommendation", "__version__", "recommend"]
