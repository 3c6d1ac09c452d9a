"""Carrying task ids to ``Runner.run_task``: in-process now, Celery later. No DAG logic here."""
