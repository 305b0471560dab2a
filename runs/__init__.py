"""What every engine does around a run, owned by none of them: one run at a time per pipeline
home (lock.py), the console and its live elapsed time (console.py, live_status.py), the data
pre-check (precheck.py), the summary and last_run.json (summary.py), the list of every run
(history.py), "nothing new, nothing done" (fingerprint.py) and the report (report/)."""
