"""The monthly bulletin (月通报): building it, its tables and labels, charts, HTML and xlsx."""
