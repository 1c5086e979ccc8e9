"""The weekly emotion report (/mood): aggregation, a Korean summary and a chart, all pure functions."""

from engine.mood.chart import render_chart
from engine.mood.report import MoodEvent, MoodReport, build_report
from engine.mood.summary import summarize

__all__ = ["MoodEvent", "MoodReport", "build_report", "render_chart", "summarize"]
