"""Correct ch10 Transformer answers in other styles; each must earn full marks. ``VACUOUS``
answers compute nothing and must earn nothing. The reference solutions are the book's code."""

VARIANTS = {
    "PositionalEncoding": [
        ("a registered buffer computed in float64, exponent through exp and log", '''
class PositionalEncoding(nn.Module):
    def __init__(self, num_hiddens, dropout, max_len=1000):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        position = torch.arange(max_len, dtype=torch.float64).unsqueeze(1)
        div = torch.exp(torch.arange(0, num_hiddens, 2, dtype=torch.float64)
                        * (-math.log(10000.0) / num_hiddens))
        P = torch.zeros(1, max_len, num_hiddens, dtype=torch.float64)
        P[0, :, 0::2] = torch.sin(position * div)
        P[0, :, 1::2] = torch.cos(position * div)
        self.register_buffer("P", P.float(), persistent=False)

    def forward(self, X):
        return self.dropout(X + self.P[:, :X.size(1)].to(device=X.device))
'''),
    ],
    "PositionWiseFFN": [
        ("functional ReLU", '''
class PositionWiseFFN(nn.Module):
    def __init__(self, ffn_num_input, ffn_num_hiddens, ffn_num_outputs, **kwargs):
        super().__init__(**kwargs)
        self.dense1 = nn.Linear(ffn_num_input, ffn_num_hiddens)
        self.dense2 = nn.Linear(ffn_num_hiddens, ffn_num_outputs)

    def forward(self, X):
        hidden = torch.relu(self.dense1(X))
        return self.dense2(hidden)
'''),
    ],
    "AddNorm": [
        ("X added first", '''
class AddNorm(nn.Module):
    def __init__(self, normalized_shape, dropout, **kwargs):
        super().__init__(**kwargs)
        self.ln = nn.LayerNorm(normalized_shape)
        self.dropout = nn.Dropout(dropout)

    def forward(self, X, Y):
        out = X + self.dropout(Y)
        return self.ln(out)
'''),
    ],
    "EncoderBlock": [
        ("keyword arguments, one expression per sublayer", '''
class EncoderBlock(nn.Module):
    def __init__(self, key_size, query_size, value_size, num_hiddens, norm_shape, ffn_num_input,
                 ffn_num_hiddens, num_heads, dropout, use_bias=False, **kwargs):
        super().__init__(**kwargs)
        self.attention = MultiHeadAttention(key_size=key_size, query_size=query_size,
                                            value_size=value_size, num_hiddens=num_hiddens,
                                            num_heads=num_heads, dropout=dropout, bias=use_bias)
        self.addnorm1 = AddNorm(norm_shape, dropout)
        self.ffn = PositionWiseFFN(ffn_num_input, ffn_num_hiddens, num_hiddens)
        self.addnorm2 = AddNorm(norm_shape, dropout)

    def forward(self, X, valid_lens):
        attended = self.attention(X, X, X, valid_lens)
        X = self.addnorm1(X, attended)
        return self.addnorm2(X, self.ffn(X))
'''),
    ],
    "TransformerEncoder": [
        ("num_hiddens ** 0.5, weights collected after the loop", '''
import collections


class TransformerEncoder(Encoder):
    def __init__(self, vocab_size, key_size, query_size, value_size, num_hiddens, norm_shape,
                 ffn_num_input, ffn_num_hiddens, num_heads, num_layers, dropout, use_bias=False,
                 **kwargs):
        super().__init__(**kwargs)
        self.scale = num_hiddens ** 0.5
        self.embedding = nn.Embedding(vocab_size, num_hiddens)
        self.pos_encoding = PositionalEncoding(num_hiddens, dropout)
        self.blks = nn.Sequential(collections.OrderedDict(
            (f"block{i}", EncoderBlock(key_size, query_size, value_size, num_hiddens,
                                       norm_shape, ffn_num_input, ffn_num_hiddens, num_heads,
                                       dropout, use_bias))
            for i in range(num_layers)))

    def forward(self, X, valid_lens, *args):
        H = self.pos_encoding(self.embedding(X) * self.scale)
        for blk in self.blks:
            H = blk(H, valid_lens)
        self.attention_weights = [b.attention.attention.attention_weights for b in self.blks]
        return H
'''),
    ],
    "DecoderBlock": [
        ("a 2-D mask built with expand, the cache updated after use", '''
class DecoderBlock(nn.Module):
    def __init__(self, key_size, query_size, value_size, num_hiddens, norm_shape, ffn_num_input,
                 ffn_num_hiddens, num_heads, dropout, i, **kwargs):
        super().__init__(**kwargs)
        self.i = i
        sizes = (key_size, query_size, value_size, num_hiddens, num_heads, dropout)
        self.attention1 = MultiHeadAttention(*sizes)
        self.attention2 = MultiHeadAttention(*sizes)
        self.addnorm1 = AddNorm(norm_shape, dropout)
        self.addnorm2 = AddNorm(norm_shape, dropout)
        self.addnorm3 = AddNorm(norm_shape, dropout)
        self.ffn = PositionWiseFFN(ffn_num_input, ffn_num_hiddens, num_hiddens)

    def forward(self, X, state):
        enc_outputs, enc_valid_lens, caches = state
        past = caches[self.i]
        kv = X if past is None else torch.cat([past, X], 1)
        mask = None
        if self.training:
            steps = torch.arange(1, X.shape[1] + 1, device=X.device)
            mask = steps.unsqueeze(0).expand(X.shape[0], -1)
        Y = self.addnorm1(X, self.attention1(X, kv, kv, mask))
        Z = self.addnorm2(Y, self.attention2(Y, enc_outputs, enc_outputs, enc_valid_lens))
        caches[self.i] = kv
        return self.addnorm3(Z, self.ffn(Z)), state
'''),
    ],
    "TransformerDecoder": [
        ("a ModuleList-free loop over named children, attention weights as a plain attribute", '''
class TransformerDecoder(Decoder):
    def __init__(self, vocab_size, key_size, query_size, value_size, num_hiddens, norm_shape,
                 ffn_num_input, ffn_num_hiddens, num_heads, num_layers, dropout, **kwargs):
        super().__init__(**kwargs)
        self.num_hiddens, self.num_layers = num_hiddens, num_layers
        self.embedding = nn.Embedding(vocab_size, num_hiddens)
        self.pos_encoding = PositionalEncoding(num_hiddens, dropout)
        self.blks = nn.Sequential()
        for i in range(num_layers):
            self.blks.add_module(f"block{i}", DecoderBlock(
                key_size, query_size, value_size, num_hiddens, norm_shape, ffn_num_input,
                ffn_num_hiddens, num_heads, dropout, i))
        self.dense = nn.Linear(num_hiddens, vocab_size)

    def init_state(self, enc_outputs, enc_valid_lens, *args):
        return [enc_outputs, enc_valid_lens, [None for _ in range(self.num_layers)]]

    def forward(self, X, state):
        H = self.pos_encoding(self.embedding(X) * self.num_hiddens ** 0.5)
        for _, blk in self.blks.named_children():
            H, state = blk(H, state)
        self.attention_weights = [
            [b.attention1.attention.attention_weights for b in self.blks],
            [b.attention2.attention.attention_weights for b in self.blks]]
        return self.dense(H), state
'''),
    ],
}

VACUOUS = {
    "PositionalEncoding": ("an identity layer", '''
def PositionalEncoding(*args, **kwargs):
    return nn.Identity()
'''),
    "PositionWiseFFN": ("an identity layer", '''
def PositionWiseFFN(*args, **kwargs):
    return nn.Identity()
'''),
    "AddNorm": ("an empty module", '''
def AddNorm(*args, **kwargs):
    return nn.Module()
'''),
    "EncoderBlock": ("an empty module", '''
def EncoderBlock(*args, **kwargs):
    return nn.Module()
'''),
    "TransformerEncoder": ("an empty module", '''
def TransformerEncoder(*args, **kwargs):
    return nn.Module()
'''),
    "DecoderBlock": ("an empty module", '''
def DecoderBlock(*args, **kwargs):
    return nn.Module()
'''),
    "TransformerDecoder": ("an empty module", '''
def TransformerDecoder(*args, **kwargs):
    return nn.Module()
'''),
}
