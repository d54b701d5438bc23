"""Realistic mistakes for ch10; each must lose points."""

from tests.mutants._ch10_transformer import MUTANTS as TRANSFORMER

MUTANTS = {
    "nadaraya_watson": [
        ("softmax over the training points of the wrong axis", '''
def nadaraya_watson(x_train, y_train, x_query):
    diff = x_query[:, None] - x_train[None, :]
    weights = torch.softmax(-diff ** 2 / 2, dim=0)
    return weights @ y_train, weights
'''),
        ("forgets the factor 1/2 in the kernel", '''
def nadaraya_watson(x_train, y_train, x_query):
    diff = x_query[:, None] - x_train[None, :]
    weights = torch.softmax(-diff ** 2, dim=1)
    return weights @ y_train, weights
'''),
    ],
    "NWKernelRegression": [
        ("multiplies the squared distance by w instead of the distance", '''
class NWKernelRegression(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.rand((1,)))

    def forward(self, queries, keys, values):
        self.attention_weights = torch.softmax(-(queries[:, None] - keys) ** 2 * self.w / 2, dim=1)
        return (self.attention_weights * values).sum(dim=1)
'''),
        ("initialises w with torch.randn", '''
class NWKernelRegression(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.randn((1,)) + 5)

    def forward(self, queries, keys, values):
        self.attention_weights = torch.softmax(-((queries[:, None] - keys) * self.w) ** 2 / 2,
                                               dim=1)
        return (self.attention_weights * values).sum(dim=1)
'''),
    ],
    "masked_softmax": [
        ("masks with 0 instead of a very negative number", '''
def masked_softmax(X, valid_lens):
    if valid_lens is None:
        return torch.softmax(X, dim=-1)
    lens = valid_lens.reshape(X.shape[0], -1).expand(X.shape[0], X.shape[1])
    keep = torch.arange(X.shape[-1])[None, None, :] < lens[..., None]
    return torch.softmax(torch.where(keep, X, torch.zeros_like(X)), dim=-1)
'''),
        ("repeats a 1-D valid_lens with repeat instead of repeat_interleave", '''
def masked_softmax(X, valid_lens):
    if valid_lens is None:
        return torch.softmax(X, dim=-1)
    shape = X.shape
    if valid_lens.dim() == 1:
        valid_lens = valid_lens.repeat(shape[1])
    else:
        valid_lens = valid_lens.reshape(-1)
    X = X.reshape(-1, shape[-1])
    mask = torch.arange(shape[-1])[None, :] < valid_lens[:, None]
    X = X.masked_fill(~mask, -1e6)
    return torch.softmax(X.reshape(shape), dim=-1)
'''),
        ("masks with -inf, so a row of valid length 0 becomes NaN", '''
def masked_softmax(X, valid_lens):
    if valid_lens is None:
        return torch.softmax(X, dim=-1)
    lens = valid_lens.reshape(X.shape[0], -1).expand(X.shape[0], X.shape[1])
    keep = torch.arange(X.shape[-1])[None, None, :] < lens[..., None]
    return torch.softmax(X.masked_fill(~keep, float("-inf")), dim=-1)
'''),
    ],
    "AdditiveAttention": [
        ("never applies its dropout layer", '''
class AdditiveAttention(nn.Module):
    def __init__(self, key_size, query_size, num_hiddens, dropout):
        super().__init__()
        self.W_k = nn.Linear(key_size, num_hiddens, bias=False)
        self.W_q = nn.Linear(query_size, num_hiddens, bias=False)
        self.w_v = nn.Linear(num_hiddens, 1, bias=False)
        self.dropout = nn.Dropout(dropout)

    def forward(self, queries, keys, values, valid_lens):
        features = torch.tanh(self.W_q(queries).unsqueeze(2) + self.W_k(keys).unsqueeze(1))
        self.attention_weights = masked_softmax(self.w_v(features).squeeze(-1), valid_lens)
        return torch.bmm(self.attention_weights, values)
'''),
        ("stores the attention weights after dropout", '''
class AdditiveAttention(nn.Module):
    def __init__(self, key_size, query_size, num_hiddens, dropout):
        super().__init__()
        self.W_k = nn.Linear(key_size, num_hiddens, bias=False)
        self.W_q = nn.Linear(query_size, num_hiddens, bias=False)
        self.w_v = nn.Linear(num_hiddens, 1, bias=False)
        self.dropout = nn.Dropout(dropout)

    def forward(self, queries, keys, values, valid_lens):
        features = torch.tanh(self.W_q(queries).unsqueeze(2) + self.W_k(keys).unsqueeze(1))
        weights = masked_softmax(self.w_v(features).squeeze(-1), valid_lens)
        self.attention_weights = self.dropout(weights)
        return torch.bmm(self.attention_weights, values)
'''),
        ("forgets the tanh", '''
class AdditiveAttention(nn.Module):
    def __init__(self, key_size, query_size, num_hiddens, dropout):
        super().__init__()
        self.W_k = nn.Linear(key_size, num_hiddens, bias=False)
        self.W_q = nn.Linear(query_size, num_hiddens, bias=False)
        self.w_v = nn.Linear(num_hiddens, 1, bias=False)
        self.dropout = nn.Dropout(dropout)

    def forward(self, queries, keys, values, valid_lens):
        features = self.W_q(queries).unsqueeze(2) + self.W_k(keys).unsqueeze(1)
        scores = self.w_v(features).squeeze(-1)
        self.attention_weights = masked_softmax(scores, valid_lens)
        return torch.bmm(self.dropout(self.attention_weights), values)
'''),
        ("ignores valid_lens", '''
class AdditiveAttention(nn.Module):
    def __init__(self, key_size, query_size, num_hiddens, dropout):
        super().__init__()
        self.W_k = nn.Linear(key_size, num_hiddens, bias=False)
        self.W_q = nn.Linear(query_size, num_hiddens, bias=False)
        self.w_v = nn.Linear(num_hiddens, 1, bias=False)
        self.dropout = nn.Dropout(dropout)

    def forward(self, queries, keys, values, valid_lens):
        features = torch.tanh(self.W_q(queries).unsqueeze(2) + self.W_k(keys).unsqueeze(1))
        scores = self.w_v(features).squeeze(-1)
        self.attention_weights = masked_softmax(scores, None)
        return torch.bmm(self.dropout(self.attention_weights), values)
'''),
    ],
    "DotProductAttention": [
        ("applies dropout to the output instead of the attention weights", '''
class DotProductAttention(nn.Module):
    def __init__(self, dropout):
        super().__init__()
        self.dropout = nn.Dropout(dropout)

    def forward(self, queries, keys, values, valid_lens=None):
        scores = torch.bmm(queries, keys.transpose(1, 2)) / queries.shape[-1] ** 0.5
        self.attention_weights = masked_softmax(scores, valid_lens)
        return self.dropout(torch.bmm(self.attention_weights, values))
'''),
        ("forgets the scaling by sqrt(d)", '''
class DotProductAttention(nn.Module):
    def __init__(self, dropout):
        super().__init__()
        self.dropout = nn.Dropout(dropout)

    def forward(self, queries, keys, values, valid_lens=None):
        scores = torch.bmm(queries, keys.transpose(1, 2))
        self.attention_weights = masked_softmax(scores, valid_lens)
        return torch.bmm(self.dropout(self.attention_weights), values)
'''),
        ("scales by d instead of sqrt(d)", '''
class DotProductAttention(nn.Module):
    def __init__(self, dropout):
        super().__init__()
        self.dropout = nn.Dropout(dropout)

    def forward(self, queries, keys, values, valid_lens=None):
        scores = torch.bmm(queries, keys.transpose(1, 2)) / queries.shape[-1]
        self.attention_weights = masked_softmax(scores, valid_lens)
        return torch.bmm(self.dropout(self.attention_weights), values)
'''),
    ],
    "Seq2SeqAttentionDecoder": [
        ("queries with the first layer's hidden state instead of the last", '''
class Seq2SeqAttentionDecoder(Decoder):
    def __init__(self, vocab_size, embed_size, num_hiddens, num_layers, dropout=0):
        super().__init__()
        self.attention = AdditiveAttention(num_hiddens, num_hiddens, num_hiddens, dropout)
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.rnn = nn.GRU(embed_size + num_hiddens, num_hiddens, num_layers, dropout=dropout)
        self.dense = nn.Linear(num_hiddens, vocab_size)

    def init_state(self, enc_outputs, enc_valid_lens, *args):
        return (enc_outputs[0].permute(1, 0, 2), enc_outputs[1], enc_valid_lens)

    def forward(self, X, state):
        enc_outputs, hidden_state, enc_valid_lens = state
        outputs, self._weights = [], []
        for x in self.embedding(X).permute(1, 0, 2):
            query = hidden_state[0].unsqueeze(1)
            context = self.attention(query, enc_outputs, enc_outputs, enc_valid_lens)
            x = torch.cat((context, x.unsqueeze(1)), dim=-1)
            out, hidden_state = self.rnn(x.permute(1, 0, 2), hidden_state)
            outputs.append(out)
            self._weights.append(self.attention.attention_weights)
        outputs = self.dense(torch.cat(outputs, dim=0))
        return outputs.permute(1, 0, 2), [enc_outputs, hidden_state, enc_valid_lens]

    @property
    def attention_weights(self):
        return self._weights
'''),
        ("queries once with the initial state, not at every step", '''
class Seq2SeqAttentionDecoder(Decoder):
    def __init__(self, vocab_size, embed_size, num_hiddens, num_layers, dropout=0):
        super().__init__()
        self.attention = AdditiveAttention(num_hiddens, num_hiddens, num_hiddens, dropout)
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.rnn = nn.GRU(embed_size + num_hiddens, num_hiddens, num_layers, dropout=dropout)
        self.dense = nn.Linear(num_hiddens, vocab_size)

    def init_state(self, enc_outputs, enc_valid_lens, *args):
        return (enc_outputs[0].permute(1, 0, 2), enc_outputs[1], enc_valid_lens)

    def forward(self, X, state):
        enc_outputs, hidden_state, enc_valid_lens = state
        X = self.embedding(X).permute(1, 0, 2)
        query = hidden_state[-1].unsqueeze(1)
        context = self.attention(query, enc_outputs, enc_outputs, enc_valid_lens)
        x = torch.cat((context.permute(1, 0, 2).expand(X.shape[0], -1, -1), X), dim=-1)
        out, hidden_state = self.rnn(x, hidden_state)
        self._weights = [self.attention.attention_weights] * X.shape[0]
        return self.dense(out).permute(1, 0, 2), [enc_outputs, hidden_state, enc_valid_lens]

    @property
    def attention_weights(self):
        return self._weights
'''),
    ],
    "transpose_qkv": [
        ("reshapes without the permute", '''
def transpose_qkv(X, num_heads):
    return X.reshape(X.shape[0] * num_heads, X.shape[1], -1)
'''),
        ("puts the heads first in the batch axis (head-major)", '''
def transpose_qkv(X, num_heads):
    X = X.reshape(X.shape[0], X.shape[1], num_heads, -1).permute(2, 0, 1, 3)
    return X.reshape(-1, X.shape[2], X.shape[3])
'''),
    ],
    "transpose_output": [
        ("reshapes without the permute", '''
def transpose_output(X, num_heads):
    return X.reshape(-1, X.shape[1], X.shape[2] * num_heads)
'''),
        ("takes the batch axis as head-major", '''
def transpose_output(X, num_heads):
    X = X.reshape(num_heads, -1, X.shape[1], X.shape[2]).permute(1, 2, 0, 3)
    return X.reshape(X.shape[0], X.shape[1], -1)
'''),
    ],
    "MultiHeadAttention": [
        ("repeats valid_lens with repeat instead of repeat_interleave", '''
class MultiHeadAttention(nn.Module):
    def __init__(self, key_size, query_size, value_size, num_hiddens, num_heads, dropout,
                 bias=False):
        super().__init__()
        self.num_heads = num_heads
        self.attention = DotProductAttention(dropout)
        self.W_q = nn.Linear(query_size, num_hiddens, bias=bias)
        self.W_k = nn.Linear(key_size, num_hiddens, bias=bias)
        self.W_v = nn.Linear(value_size, num_hiddens, bias=bias)
        self.W_o = nn.Linear(num_hiddens, num_hiddens, bias=bias)

    def forward(self, queries, keys, values, valid_lens):
        q = transpose_qkv(self.W_q(queries), self.num_heads)
        k = transpose_qkv(self.W_k(keys), self.num_heads)
        v = transpose_qkv(self.W_v(values), self.num_heads)
        if valid_lens is not None:
            valid_lens = valid_lens.repeat(self.num_heads)
        out = self.attention(q, k, v, valid_lens)
        return self.W_o(transpose_output(out, self.num_heads))
'''),
        ("forgets the output projection W_o", '''
class MultiHeadAttention(nn.Module):
    def __init__(self, key_size, query_size, value_size, num_hiddens, num_heads, dropout,
                 bias=False):
        super().__init__()
        self.num_heads = num_heads
        self.attention = DotProductAttention(dropout)
        self.W_q = nn.Linear(query_size, num_hiddens, bias=bias)
        self.W_k = nn.Linear(key_size, num_hiddens, bias=bias)
        self.W_v = nn.Linear(value_size, num_hiddens, bias=bias)
        self.W_o = nn.Linear(num_hiddens, num_hiddens, bias=bias)

    def forward(self, queries, keys, values, valid_lens):
        q = transpose_qkv(self.W_q(queries), self.num_heads)
        k = transpose_qkv(self.W_k(keys), self.num_heads)
        v = transpose_qkv(self.W_v(values), self.num_heads)
        if valid_lens is not None:
            valid_lens = torch.repeat_interleave(valid_lens, self.num_heads, dim=0)
        out = self.attention(q, k, v, valid_lens)
        return transpose_output(out, self.num_heads)
'''),
    ],
    **TRANSFORMER,
}
