"""Correct ch10 answers written in other reasonable styles; each must earn full marks.

``VACUOUS`` holds answers that return nothing useful; each must earn nothing. The reference
solutions are the book's own code (``solutions/ch10.py``), graded through the source notebook.
"""

from tests.variants._ch10_transformer import VACUOUS as TRANSFORMER_VACUOUS
from tests.variants._ch10_transformer import VARIANTS as TRANSFORMER

VARIANTS = {
    "nadaraya_watson": [
        ("broadcasting, softmax written out", '''
def nadaraya_watson(x_train, y_train, x_query):
    logits = -0.5 * (x_query.unsqueeze(1) - x_train.unsqueeze(0)) ** 2
    e = torch.exp(logits - logits.max(dim=1, keepdim=True).values)
    weights = e / e.sum(dim=1, keepdim=True)
    return (weights * y_train).sum(dim=1), weights
'''),
    ],
    "NWKernelRegression": [
        ("broadcasting and a weighted sum", '''
class NWKernelRegression(nn.Module):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.w = nn.Parameter(torch.rand(1))

    def forward(self, queries, keys, values):
        scaled = (queries.unsqueeze(-1) - keys) * self.w
        self.attention_weights = torch.softmax(-0.5 * scaled ** 2, dim=-1)
        return (self.attention_weights * values).sum(-1)
'''),
    ],
    "masked_softmax": [
        ("a broadcast mask, torch.where", '''
def masked_softmax(X, valid_lens):
    if valid_lens is None:
        return torch.softmax(X, dim=-1)
    B, Q, K = X.shape
    if valid_lens.dim() == 1:
        valid_lens = valid_lens[:, None].expand(B, Q)
    positions = torch.arange(K, device=X.device)
    keep = positions[None, None, :] < valid_lens[:, :, None]
    return torch.softmax(torch.where(keep, X, torch.tensor(-1e6, dtype=X.dtype,
                                                           device=X.device)), dim=-1)
'''),
        ("the dtype's smallest number as the fill, masked_fill on a flat view", '''
def masked_softmax(X, valid_lens):
    if valid_lens is None:
        return nn.functional.softmax(X, dim=-1)
    B, Q, K = X.shape
    lens = valid_lens.repeat_interleave(Q) if valid_lens.dim() == 1 else valid_lens.flatten()
    flat = X.reshape(B * Q, K)
    masked = flat.masked_fill(torch.arange(K)[None, :] >= lens[:, None],
                              torch.finfo(X.dtype).min)
    return nn.functional.softmax(masked, dim=-1).reshape(B, Q, K)
'''),
    ],
    "AdditiveAttention": [
        ("a loop over the queries", '''
class AdditiveAttention(nn.Module):
    def __init__(self, key_size, query_size, num_hiddens, dropout, **kwargs):
        super().__init__(**kwargs)
        self.W_k = nn.Linear(key_size, num_hiddens, bias=False)
        self.W_q = nn.Linear(query_size, num_hiddens, bias=False)
        self.w_v = nn.Linear(num_hiddens, 1, bias=False)
        self.dropout = nn.Dropout(dropout)

    def forward(self, queries, keys, values, valid_lens):
        k = self.W_k(keys)
        rows = []
        for i in range(queries.shape[1]):
            q = self.W_q(queries[:, i:i + 1, :])
            rows.append(self.w_v(torch.tanh(q + k))[..., 0])
        scores = torch.stack(rows, dim=1)
        self.attention_weights = masked_softmax(scores, valid_lens)
        return self.dropout(self.attention_weights) @ values
'''),
    ],
    "DotProductAttention": [
        ("matmul and einsum", '''
class DotProductAttention(nn.Module):
    def __init__(self, dropout, **kwargs):
        super().__init__(**kwargs)
        self.dropout = nn.Dropout(dropout)

    def forward(self, queries, keys, values, valid_lens=None):
        scores = torch.einsum("bqd,bkd->bqk", queries, keys) * queries.shape[-1] ** -0.5
        self.attention_weights = masked_softmax(scores, valid_lens)
        return torch.matmul(self.dropout(self.attention_weights), values)
'''),
        ("functional dropout with the layer's p and the module's mode", '''
class DotProductAttention(nn.Module):
    def __init__(self, dropout, **kwargs):
        super().__init__(**kwargs)
        self.dropout = nn.Dropout(dropout)

    def forward(self, queries, keys, values, valid_lens=None):
        d = queries.shape[-1]
        self.attention_weights = masked_softmax(queries @ keys.mT / math.sqrt(d), valid_lens)
        dropped = nn.functional.dropout(self.attention_weights, self.dropout.p, self.training)
        return dropped @ values
'''),
    ],
    "Seq2SeqAttentionDecoder": [
        ("a GRU step on (1, B, e + h) built with stack", '''
class Seq2SeqAttentionDecoder(Decoder):
    def __init__(self, vocab_size, embed_size, num_hiddens, num_layers, dropout=0, **kwargs):
        super().__init__(**kwargs)
        self.attention = AdditiveAttention(num_hiddens, num_hiddens, num_hiddens, dropout)
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.rnn = nn.GRU(embed_size + num_hiddens, num_hiddens, num_layers, dropout=dropout)
        self.dense = nn.Linear(num_hiddens, vocab_size)
        self.weights_seen = []

    def init_state(self, enc_outputs, enc_valid_lens, *args):
        outputs, hidden = enc_outputs
        return outputs.transpose(0, 1), hidden, enc_valid_lens

    def forward(self, X, state):
        memory, hidden, valid_lens = state
        embedded = self.embedding(X)
        steps, self.weights_seen = [], []
        for t in range(X.shape[1]):
            context = self.attention(hidden[-1][:, None, :], memory, memory, valid_lens)
            step_in = torch.cat([context[:, 0, :], embedded[:, t, :]], dim=1)[None]
            out, hidden = self.rnn(step_in, hidden)
            steps.append(out[0])
            self.weights_seen.append(self.attention.attention_weights)
        logits = self.dense(torch.stack(steps, dim=1))
        return logits, [memory, hidden, valid_lens]

    @property
    def attention_weights(self):
        return self.weights_seen
'''),
    ],
    "transpose_qkv": [
        ("view and transpose", '''
def transpose_qkv(X, num_heads):
    B, n, features = X.shape
    heads = X.view(B, n, num_heads, features // num_heads).transpose(1, 2)
    return heads.reshape(B * num_heads, n, features // num_heads)
'''),
    ],
    "transpose_output": [
        ("unflatten and flatten", '''
def transpose_output(X, num_heads):
    return X.unflatten(0, (-1, num_heads)).transpose(1, 2).flatten(2)
'''),
    ],
    "MultiHeadAttention": [
        ("heads reshaped inline, valid_lens repeated with expand", '''
class MultiHeadAttention(nn.Module):
    def __init__(self, key_size, query_size, value_size, num_hiddens, num_heads, dropout,
                 bias=False, **kwargs):
        super().__init__(**kwargs)
        self.num_heads = num_heads
        self.attention = DotProductAttention(dropout)
        self.W_q = nn.Linear(query_size, num_hiddens, bias=bias)
        self.W_k = nn.Linear(key_size, num_hiddens, bias=bias)
        self.W_v = nn.Linear(value_size, num_hiddens, bias=bias)
        self.W_o = nn.Linear(num_hiddens, num_hiddens, bias=bias)

    def forward(self, queries, keys, values, valid_lens):
        h = self.num_heads

        def split(Z):
            B, n, f = Z.shape
            return Z.reshape(B, n, h, f // h).permute(0, 2, 1, 3).reshape(B * h, n, f // h)

        if valid_lens is not None:
            valid_lens = valid_lens[:, None].expand(-1, h).reshape(-1)
        out = self.attention(split(self.W_q(queries)), split(self.W_k(keys)),
                             split(self.W_v(values)), valid_lens)
        Bh, n, d = out.shape
        out = out.reshape(Bh // h, h, n, d).permute(0, 2, 1, 3).reshape(Bh // h, n, h * d)
        return self.W_o(out)
'''),
    ],
    **TRANSFORMER,
}

VACUOUS = {
    "nadaraya_watson": ("returns zeros", '''
def nadaraya_watson(x_train, y_train, x_query):
    return torch.zeros_like(x_query), torch.zeros(len(x_query), len(x_train))
'''),
    "NWKernelRegression": ("an empty module", '''
def NWKernelRegression():
    return nn.Sequential()
'''),
    "masked_softmax": ("returns its input", '''
def masked_softmax(X, valid_lens):
    return X
'''),
    "AdditiveAttention": ("an empty module", '''
def AdditiveAttention(key_size, query_size, num_hiddens, dropout):
    return nn.Sequential()
'''),
    "DotProductAttention": ("an empty module", '''
def DotProductAttention(dropout):
    return nn.Sequential()
'''),
    "Seq2SeqAttentionDecoder": ("an empty module", '''
def Seq2SeqAttentionDecoder(vocab_size, embed_size, num_hiddens, num_layers, dropout=0):
    return nn.Sequential()
'''),
    "transpose_qkv": ("returns its input", '''
def transpose_qkv(X, num_heads):
    return X
'''),
    "transpose_output": ("returns its input", '''
def transpose_output(X, num_heads):
    return X
'''),
    "MultiHeadAttention": ("an empty module", '''
def MultiHeadAttention(key_size, query_size, value_size, num_hiddens, num_heads, dropout,
                       bias=False):
    return nn.Sequential()
'''),
    **TRANSFORMER_VACUOUS,
}
