"""Fixtures shared by the tests: scenario builders (see tests/builders.py)."""

from __future__ import annotations

import pytest

import builders


@pytest.fixture
def build():
    return builders.scenario
