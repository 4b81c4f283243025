"""The engineers' eval suite (issue #12): datasets, a harness that runs the real assistant,
ragas metrics plus our own, reports with charts and regression gates."""
