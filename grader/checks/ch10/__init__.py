"""Hidden checks for ch10, Attention mechanisms: a package whose ``test_*.py`` modules pytest
collects.

- ``test_attention.py``: Nadaraya-Watson regression, masked softmax, additive and scaled
  dot-product attention, the Bahdanau decoder and multi-head attention;
- ``test_transformer.py`` (with ``transformer.py``): the Transformer's parts.
"""

from grader.checks.ch10.transformer import EXERCISES as TRANSFORMER
from grader.engine.plugin import Exercise

ATTENTION_OPS = ("scaled_dot_product_attention",)
MHA_OPS = ("scaled_dot_product_attention", "multi_head_attention_forward",
           "torch.nn.MultiheadAttention")

EXERCISES = {
    "nadaraya_watson": Exercise(points=2),
    "NWKernelRegression": Exercise(points=2),
    "masked_softmax": Exercise(points=3),
    "AdditiveAttention": Exercise(points=3),
    "DotProductAttention": Exercise(points=2, forbid=ATTENTION_OPS),
    "Seq2SeqAttentionDecoder": Exercise(points=4),
    "transpose_qkv": Exercise(points=1),
    "transpose_output": Exercise(points=1),
    "MultiHeadAttention": Exercise(points=3, forbid=MHA_OPS),
    **TRANSFORMER,
}
