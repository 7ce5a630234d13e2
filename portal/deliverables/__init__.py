"""Deliverable review: versions, approve or request changes, and a permanent record of every decision."""
