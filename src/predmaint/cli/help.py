"""Help that reads well: no ``<bool>`` after flags, commands grouped into panels."""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

PANELS = {
    "Data": ("ingest", "split", "lineage", "simulate", "validate", "clean", "docs"),
    "Model": ("train", "backtest", "evaluate", "promote", "rollback", "reproduce", "batch"),
    "Serve and monitor": ("serve", "monitor", "replay", "log", "ui"),
    "Lifecycle and stack": ("demo", "reset", "stack"),
}


def _blank_flag_metavars(params: list[Any]) -> None:
    for param in params:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""


class Command(TyperCommand):
    """A command whose flags (``--yes``, ``--help``) show no type in the help."""

    def format_help(self, ctx: Any, formatter: Any) -> None:
        _blank_flag_metavars(self.get_params(ctx))
        super().format_help(ctx, formatter)


class Group(TyperGroup):
    """A group whose flags show no type in the help."""

    def format_help(self, ctx: Any, formatter: Any) -> None:
        _blank_flag_metavars(self.get_params(ctx))
        super().format_help(ctx, formatter)


def polish(app: typer.Typer) -> None:
    """Put every command of ``app`` (and its sub-apps) in its panel and use the flag-friendly classes."""
    panel_of = {name: panel for panel, names in PANELS.items() for name in names}
    for info in app.registered_commands:
        name = info.name or (info.callback.__name__.replace("_", "-") if info.callback else "")
        if info.cls in (None, TyperCommand):
            info.cls = Command
        info.rich_help_panel = info.rich_help_panel or panel_of.get(name)
    for group in app.registered_groups:
        group.rich_help_panel = group.rich_help_panel or panel_of.get(group.name or "")
        if group.typer_instance is not None:
            if group.typer_instance.info.cls in (None, TyperGroup):
                group.typer_instance.info.cls = Group
            polish(group.typer_instance)
