"""Scenario files: the contract, the loader and the distributions."""

from .load import ScenarioError

__all__ = ["ScenarioError"]
