"""ch10's Transformer exercises (10.6.3 and 10.7), merged into the chapter's ``EXERCISES``."""

from grader.engine.plugin import Exercise

LIBRARY_TRANSFORMER = ("torch.nn.MultiheadAttention", "torch.nn.Transformer",
                       "torch.nn.TransformerEncoderLayer", "torch.nn.TransformerDecoderLayer",
                       "torch.nn.TransformerEncoder", "torch.nn.TransformerDecoder")

EXERCISES = {
    "PositionalEncoding": Exercise(points=2, forbid=LIBRARY_TRANSFORMER),
    "PositionWiseFFN": Exercise(points=1, forbid=LIBRARY_TRANSFORMER),
    "AddNorm": Exercise(points=1, forbid=LIBRARY_TRANSFORMER),
    "EncoderBlock": Exercise(points=2, forbid=LIBRARY_TRANSFORMER),
    "TransformerEncoder": Exercise(points=2, forbid=LIBRARY_TRANSFORMER),
    "DecoderBlock": Exercise(points=3, forbid=LIBRARY_TRANSFORMER),
    "TransformerDecoder": Exercise(points=2, forbid=LIBRARY_TRANSFORMER),
}
