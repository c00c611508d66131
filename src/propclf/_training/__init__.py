"""The training side: everything that needs scikit-learn.

``corpus`` loads and validates the labeled corpus; ``pipeline`` builds the scikit-learn pipeline;
``evaluation`` holds the held-out sets, scores and calibration; ``train`` searches, chooses by real text,
fits and saves; ``report`` writes the evaluation report; ``shortcuts`` measures the corpus' shortcuts;
``audit`` finds likely mislabeled rows; ``label`` runs a labeling session. The public API
(``propclf/__init__.py``) and the command line reach these modules only inside functions, so that
predicting never imports them (``tests/test_layout.py``). Nothing is imported here: each module is
imported by name when it is needed.
"""

__all__ = ["audit", "corpus", "evaluation", "label", "pipeline", "report", "shortcuts", "train"]
