"""The user's inputs, read and validated: expression matrices, regulator lists, gold standards
and the toy dataset. No Dagster: usable from a notebook."""
