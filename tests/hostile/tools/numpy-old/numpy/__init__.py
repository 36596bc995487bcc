__version__ = "1.21.0"  # a fixture of tests/hostile: numpy of another version than requirements.txt pins
