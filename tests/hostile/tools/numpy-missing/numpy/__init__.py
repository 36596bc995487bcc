raise ModuleNotFoundError("No module named 'numpy' (a fixture of tests/hostile standing for a venv without numpy)")
