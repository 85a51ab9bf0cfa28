"""Evaluation metrics, each backed by its field's reference library where one exists.

``text`` (exact match, token F1, ROUGE-L, BLEU, cosine), ``judge`` (judge-LLM rubric prompt and score
parsing), ``retrieval`` (recall/precision/nDCG@k and MRR through pytrec_eval) and ``compare`` (paired
bootstrap against a baseline, repeats, the regression decision). See docs/eval.md.
"""
