"""Chat eval: conversations with expected tools and arguments (run_eval.py)."""
