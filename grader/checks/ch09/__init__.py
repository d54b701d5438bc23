"""Hidden checks for ch09, Modern recurrent neural networks: a package whose ``test_*.py``
modules pytest collects.

- ``test_recurrent.py``: ``gru``, ``get_lstm_params``, ``init_lstm_state``, ``lstm``,
  ``deep_rnn``, ``bidirectional_rnn`` (values and gradients against the reference, and the
  relation to ``nn.GRU``/``nn.LSTM``/``nn.RNN`` with copied weights);
- ``test_translation_data.py``: the machine translation data pipeline, on texts the grader
  writes in the book's tab-separated format and with a grader vocabulary;
- ``test_seq2seq.py``: the encoder-decoder, the seq2seq modules (graded by state-dict names and
  shapes and by outputs and gradients with the reference's weights loaded), masking, the
  masked loss and the training loop;
- ``test_decoding.py`` (with ``decoding.py``): BLEU, greedy prediction and beam search.
"""

from grader.checks.ch09.decoding import EXERCISES as DECODING
from grader.engine.plugin import Exercise

GRU_OPS = ("gru", "gru_cell", "torch.nn.GRU", "torch.nn.GRUCell")
LSTM_OPS = ("lstm", "lstm_cell", "torch.nn.LSTM", "torch.nn.LSTMCell")
RNN_OPS = ("rnn_tanh", "rnn_tanh_cell", "torch.nn.RNN", "torch.nn.RNNCell")

EXERCISES = {
    "gru": Exercise(points=4, forbid=GRU_OPS),
    "get_lstm_params": Exercise(points=2),
    "init_lstm_state": Exercise(points=1),
    "lstm": Exercise(points=4, forbid=LSTM_OPS),
    "deep_rnn": Exercise(points=3, forbid=RNN_OPS),
    "bidirectional_rnn": Exercise(points=3, forbid=RNN_OPS),
    "preprocess_nmt": Exercise(points=2),
    "tokenize_nmt": Exercise(points=2),
    "truncate_pad": Exercise(points=1),
    "build_array_nmt": Exercise(points=2),
    "EncoderDecoder": Exercise(points=2),
    "Seq2SeqEncoder": Exercise(points=3),
    "Seq2SeqDecoder": Exercise(points=3),
    "sequence_mask": Exercise(points=2),
    "MaskedSoftmaxCELoss": Exercise(points=2),
    "train_seq2seq": Exercise(points=4, seconds=30),
    **DECODING,
}
