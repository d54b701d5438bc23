"""Correct ch09 answers written in other reasonable styles; each must earn full marks.

``VACUOUS`` holds answers that return nothing useful; each must earn nothing. The reference
solutions are the book's own code (``solutions/ch09.py``), graded through the source notebook.
"""

from tests.variants._ch09_decoding import VACUOUS as DECODING_VACUOUS
from tests.variants._ch09_decoding import VARIANTS as DECODING

VARIANTS = {
    "gru": [
        ("input projections for all steps at once, a list of states stacked at the end", '''
def gru(inputs, state, params):
    W_xz, W_hz, b_z, W_xr, W_hr, b_r, W_xh, W_hh, b_h, W_hq, b_q = params
    (H,) = state
    XZ, XR, XH = inputs @ W_xz + b_z, inputs @ W_xr + b_r, inputs @ W_xh + b_h
    states = []
    for t in range(inputs.shape[0]):
        Z = torch.sigmoid(XZ[t] + H @ W_hz)
        R = torch.sigmoid(XR[t] + H @ W_hr)
        candidate = torch.tanh(XH[t] + torch.mm(R * H, W_hh))
        H = H + (1 - Z) * (candidate - H)
        states.append(H)
    Y = torch.stack(states) @ W_hq + b_q
    return Y.reshape(-1, Y.shape[-1]), (H,)
'''),
    ],
    "get_lstm_params": [
        ("torch.normal in a loop, returned as a tuple", '''
def get_lstm_params(vocab_size, num_hiddens, device):
    shapes = [(vocab_size, num_hiddens), (num_hiddens, num_hiddens), (num_hiddens,)] * 4
    shapes += [(num_hiddens, vocab_size), (vocab_size,)]
    params = []
    for shape in shapes:
        if len(shape) == 1:
            p = torch.zeros(shape, device=device)
        else:
            p = torch.normal(0.0, 0.01, size=shape, device=device)
        params.append(p.requires_grad_())
    return tuple(params)
'''),
        ("numpy draws moved to the device", '''
def get_lstm_params(vocab_size, num_hiddens, device):
    import numpy as np

    def weight(*shape):
        values = torch.from_numpy(np.random.normal(0, 0.01, size=shape).astype(np.float32))
        return values.to(device).requires_grad_(True)

    def bias(n):
        return torch.zeros(n, device=device, requires_grad=True)

    params = []
    for _ in range(4):
        params += [weight(vocab_size, num_hiddens), weight(num_hiddens, num_hiddens),
                   bias(num_hiddens)]
    return params + [weight(num_hiddens, vocab_size), bias(vocab_size)]
'''),
    ],
    "init_lstm_state": [
        ("one zero tensor and a copy", '''
def init_lstm_state(batch_size, num_hiddens, device):
    H = torch.zeros(batch_size, num_hiddens, device=device)
    return H, H.clone()
'''),
    ],
    "lstm": [
        ("all gates in one product of concatenated weights", '''
def lstm(inputs, state, params):
    W_xi, W_hi, b_i, W_xf, W_hf, b_f, W_xo, W_ho, b_o, W_xc, W_hc, b_c, W_hq, b_q = params
    W_x = torch.cat([W_xi, W_xf, W_xo, W_xc], dim=1)
    W_h = torch.cat([W_hi, W_hf, W_ho, W_hc], dim=1)
    b = torch.cat([b_i, b_f, b_o, b_c])
    H, C = state
    n = H.shape[1]
    outputs = []
    for X in inputs:
        gates = X @ W_x + H @ W_h + b
        I, F, O = torch.sigmoid(gates[:, :3 * n]).split(n, dim=1)
        C = F * C + I * torch.tanh(gates[:, 3 * n:])
        H = O * torch.tanh(C)
        outputs.append(H @ W_hq + b_q)
    return torch.cat(outputs), (H, C)
'''),
    ],
    "deep_rnn": [
        ("layer by layer over the whole sequence", '''
def deep_rnn(inputs, state, params):
    layer_input, final = inputs, []
    for (W_xh, W_hh, b_h), H in zip(params, state):
        projected = layer_input @ W_xh + b_h
        states = []
        for t in range(projected.shape[0]):
            H = torch.tanh(projected[t] + H @ W_hh)
            states.append(H)
        layer_input = torch.stack(states)
        final.append(H)
    return layer_input, tuple(final)
'''),
    ],
    "bidirectional_rnn": [
        ("one helper run on the flipped sequence", '''
def bidirectional_rnn(inputs, state, params):
    def run(X, H, W_xh, W_hh, b_h):
        states = []
        for x in X:
            H = torch.tanh(x @ W_xh + H @ W_hh + b_h)
            states.append(H)
        return torch.stack(states), H

    forward, H_f = run(inputs, state[0], *params[0])
    backward, H_b = run(torch.flip(inputs, dims=[0]), state[1], *params[1])
    return torch.cat([forward, torch.flip(backward, dims=[0])], dim=2), (H_f, H_b)
'''),
    ],
    "preprocess_nmt": [
        ("a regular expression", '''
def preprocess_nmt(text):
    import re

    text = text.replace('\\u202f', ' ').replace('\\xa0', ' ').lower()
    return re.sub(r'(?<=[^ ])([,.!?])', r' \\1', text)
'''),
        ("a loop that remembers the previous character", '''
def preprocess_nmt(text):
    text = text.lower().replace('\\xa0', ' ').replace('\\u202f', ' ')
    out, previous = [], None
    for char in text:
        if char in ',.!?' and previous is not None and previous != ' ':
            out.append(' ')
        out.append(char)
        previous = char
    return ''.join(out)
'''),
    ],
    "tokenize_nmt": [
        ("slices the lines first, tuples of lists", '''
def tokenize_nmt(text, num_examples=None):
    lines = text.split('\\n')
    if num_examples:
        lines = lines[:num_examples + 1]
    pairs = [line.split('\\t') for line in lines if line.count('\\t') == 1]
    return [s.split() for s, _ in pairs], [t.split() for _, t in pairs]
'''),
    ],
    "truncate_pad": [
        ("pad then slice", '''
def truncate_pad(line, num_steps, padding_token):
    return (list(line) + [padding_token] * num_steps)[:num_steps]
'''),
    ],
    "build_array_nmt": [
        ("a filled tensor and valid lengths from the line lengths", '''
def build_array_nmt(lines, vocab, num_steps):
    pad, eos = vocab['<pad>'], vocab['<eos>']
    array = torch.full((len(lines), num_steps), pad, dtype=torch.long)
    lengths = []
    for i, line in enumerate(lines):
        row = truncate_pad([vocab[token] for token in line] + [eos], num_steps, pad)
        array[i] = torch.tensor(row)
        lengths.append(min(len(line) + 1, num_steps))
    return array, torch.tensor(lengths)
'''),
    ],
    "EncoderDecoder": [
        ("add_module and a one-line forward", '''
class EncoderDecoder(nn.Module):
    def __init__(self, encoder, decoder):
        super().__init__()
        self.add_module('encoder', encoder)
        self.add_module('decoder', decoder)

    def forward(self, enc_X, dec_X, *args):
        return self.decoder(dec_X, self.decoder.init_state(self.encoder(enc_X, *args), *args))
'''),
    ],
    "Seq2SeqEncoder": [
        ("transpose and the GRU's result returned directly", '''
class Seq2SeqEncoder(Encoder):
    def __init__(self, vocab_size, embed_size, num_hiddens, num_layers, dropout=0.0):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.rnn = nn.GRU(input_size=embed_size, hidden_size=num_hiddens,
                          num_layers=num_layers, dropout=dropout)

    def forward(self, X, *args):
        return self.rnn(self.embedding(X.t()))
'''),
    ],
    "Seq2SeqDecoder": [
        ("expand instead of repeat, transposes", '''
class Seq2SeqDecoder(Decoder):
    def __init__(self, vocab_size, embed_size, num_hiddens, num_layers, dropout=0.0):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.rnn = nn.GRU(embed_size + num_hiddens, num_hiddens, num_layers, dropout=dropout)
        self.dense = nn.Linear(num_hiddens, vocab_size)

    def init_state(self, enc_outputs, *args):
        _, state = enc_outputs
        return state

    def forward(self, X, state):
        embedded = self.embedding(X.t())
        context = state[-1].unsqueeze(0).expand(embedded.shape[0], -1, -1)
        output, state = self.rnn(torch.cat([embedded, context], dim=-1), state)
        return self.dense(output).transpose(0, 1), state
'''),
    ],
    "sequence_mask": [
        ("torch.where, a new tensor", '''
def sequence_mask(X, valid_len, value=0):
    steps = torch.arange(X.shape[1], device=X.device)
    keep = steps.unsqueeze(0) < valid_len.unsqueeze(1)
    keep = keep.reshape(keep.shape + (1,) * (X.dim() - 2))
    return torch.where(keep, X, torch.as_tensor(value, dtype=X.dtype, device=X.device))
'''),
    ],
    "MaskedSoftmaxCELoss": [
        ("F.cross_entropy and an inline mask", '''
class MaskedSoftmaxCELoss(nn.CrossEntropyLoss):
    def __init__(self):
        super().__init__(reduction='none')

    def forward(self, pred, label, valid_len):
        steps = torch.arange(label.shape[1], device=label.device)
        weights = (steps[None, :] < valid_len[:, None]).to(pred.dtype)
        losses = F.cross_entropy(pred.transpose(1, 2), label, reduction='none')
        return (losses * weights).sum(dim=1) / label.shape[1]
'''),
    ],
    "train_seq2seq": [
        ("isinstance and named_parameters, torch.full, clip_grad_norm_, a running sum", '''
def train_seq2seq(net, data_iter, lr, num_epochs, tgt_vocab, device):
    import time

    for module in net.modules():
        if isinstance(module, nn.Linear):
            nn.init.xavier_uniform_(module.weight)
        elif isinstance(module, nn.GRU):
            for name, param in module.named_parameters():
                if name.startswith('weight'):
                    nn.init.xavier_uniform_(param)
    net = net.to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    criterion = MaskedSoftmaxCELoss()
    net.train()
    for epoch in range(num_epochs):
        start, total, tokens = time.perf_counter(), 0.0, 0.0
        for X, X_valid_len, Y, Y_valid_len in data_iter:
            X, X_valid_len = X.to(device), X_valid_len.to(device)
            Y, Y_valid_len = Y.to(device), Y_valid_len.to(device)
            bos = torch.full((Y.shape[0], 1), tgt_vocab['<bos>'], dtype=Y.dtype, device=device)
            Y_hat, _ = net(X, torch.cat([bos, Y[:, :-1]], dim=1), X_valid_len)
            l = criterion(Y_hat, Y, Y_valid_len)
            optimizer.zero_grad()
            l.sum().backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), max_norm=1)
            optimizer.step()
            total += l.sum().item()
            tokens += Y_valid_len.sum().item()
    return total / tokens, tokens / max(time.perf_counter() - start, 1e-9)
'''),
    ],
    **DECODING,
}

VACUOUS = {
    "gru": ("returns its inputs and the state", '''
def gru(inputs, state, params):
    return inputs.reshape(-1, inputs.shape[-1]), state
'''),
    "get_lstm_params": ("zeros of the right shapes", '''
def get_lstm_params(vocab_size, num_hiddens, device):
    shapes = [(vocab_size, num_hiddens), (num_hiddens, num_hiddens), (num_hiddens,)] * 4
    return [torch.zeros(s, device=device, requires_grad=True)
            for s in shapes + [(num_hiddens, vocab_size), (vocab_size,)]]
'''),
    "init_lstm_state": ("returns nothing", '''
def init_lstm_state(batch_size, num_hiddens, device):
    return ()
'''),
    "lstm": ("returns its inputs and the state", '''
def lstm(inputs, state, params):
    return inputs.reshape(-1, inputs.shape[-1]), state
'''),
    "deep_rnn": ("returns zeros and the state", '''
def deep_rnn(inputs, state, params):
    return torch.zeros(inputs.shape[0], *state[0].shape, dtype=inputs.dtype), state
'''),
    "bidirectional_rnn": ("returns zeros and the state", '''
def bidirectional_rnn(inputs, state, params):
    B, h = state[0].shape
    return torch.zeros(inputs.shape[0], B, 2 * h, dtype=inputs.dtype), state
'''),
    "preprocess_nmt": ("returns the text unchanged", '''
def preprocess_nmt(text):
    return text
'''),
    "tokenize_nmt": ("returns no pairs", '''
def tokenize_nmt(text, num_examples=None):
    return [], []
'''),
    "truncate_pad": ("returns the line", '''
def truncate_pad(line, num_steps, padding_token):
    return line
'''),
    "build_array_nmt": ("returns zeros", '''
def build_array_nmt(lines, vocab, num_steps):
    return torch.zeros(len(lines), num_steps, dtype=torch.long), torch.zeros(len(lines))
'''),
    "EncoderDecoder": ("returns an empty module", '''
def EncoderDecoder(encoder, decoder):
    return nn.Module()
'''),
    "Seq2SeqEncoder": ("a GRU-less module that returns its input", '''
def Seq2SeqEncoder(vocab_size, embed_size, num_hiddens, num_layers, dropout=0):
    return nn.Identity()
'''),
    "Seq2SeqDecoder": ("a module that returns its input", '''
def Seq2SeqDecoder(vocab_size, embed_size, num_hiddens, num_layers, dropout=0):
    return nn.Identity()
'''),
    "sequence_mask": ("returns X unchanged", '''
def sequence_mask(X, valid_len, value=0):
    return X
'''),
    "MaskedSoftmaxCELoss": ("a loss that is always zero", '''
def MaskedSoftmaxCELoss():
    return lambda pred, label, valid_len: torch.zeros(label.shape[0], dtype=pred.dtype)
'''),
    "train_seq2seq": ("trains nothing", '''
def train_seq2seq(net, data_iter, lr, num_epochs, tgt_vocab, device):
    return 0.0, 0.0
'''),
    **DECODING_VACUOUS,
}
