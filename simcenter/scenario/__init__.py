"""Scenario files: the contract, the loader and the distributions."""

from .load import ScenarioError, load_scenario

__all__ = ["ScenarioError", "load_scenario"]
