"""Realistic mistakes for ch09; each must lose points."""

from tests.mutants._ch09_decoding import MUTANTS as DECODING

MUTANTS = {
    "gru": [
        ("PyTorch's reset gate (after the product with W_hh) instead of the book's", '''
def gru(inputs, state, params):
    W_xz, W_hz, b_z, W_xr, W_hr, b_r, W_xh, W_hh, b_h, W_hq, b_q = params
    H, = state
    outputs = []
    for X in inputs:
        Z = torch.sigmoid(X @ W_xz + H @ W_hz + b_z)
        R = torch.sigmoid(X @ W_xr + H @ W_hr + b_r)
        H_tilda = torch.tanh(X @ W_xh + R * (H @ W_hh) + b_h)
        H = Z * H + (1 - Z) * H_tilda
        outputs.append(H @ W_hq + b_q)
    return torch.cat(outputs, dim=0), (H,)
'''),
        ("the update gate weighs the candidate instead of the old state", '''
def gru(inputs, state, params):
    W_xz, W_hz, b_z, W_xr, W_hr, b_r, W_xh, W_hh, b_h, W_hq, b_q = params
    H, = state
    outputs = []
    for X in inputs:
        Z = torch.sigmoid(X @ W_xz + H @ W_hz + b_z)
        R = torch.sigmoid(X @ W_xr + H @ W_hr + b_r)
        H_tilda = torch.tanh(X @ W_xh + (R * H) @ W_hh + b_h)
        H = (1 - Z) * H + Z * H_tilda
        outputs.append(H @ W_hq + b_q)
    return torch.cat(outputs, dim=0), (H,)
'''),
    ],
    "get_lstm_params": [
        ("forgets requires_grad_", '''
def get_lstm_params(vocab_size, num_hiddens, device):
    def normal(shape):
        return torch.randn(size=shape, device=device) * 0.01

    params = []
    for _ in range(4):
        params += [normal((vocab_size, num_hiddens)), normal((num_hiddens, num_hiddens)),
                   torch.zeros(num_hiddens, device=device)]
    return params + [normal((num_hiddens, vocab_size)), torch.zeros(vocab_size, device=device)]
'''),
        ("standard deviation 0.1 instead of 0.01", '''
def get_lstm_params(vocab_size, num_hiddens, device):
    def normal(shape):
        return torch.randn(size=shape, device=device) * 0.1

    params = []
    for _ in range(4):
        params += [normal((vocab_size, num_hiddens)), normal((num_hiddens, num_hiddens)),
                   torch.zeros(num_hiddens, device=device)]
    params += [normal((num_hiddens, vocab_size)), torch.zeros(vocab_size, device=device)]
    for p in params:
        p.requires_grad_(True)
    return params
'''),
    ],
    "init_lstm_state": [
        ("copies the GRU's state: only H", '''
def init_lstm_state(batch_size, num_hiddens, device):
    return (torch.zeros((batch_size, num_hiddens), device=device),)
'''),
        ("shape (num_hiddens, batch_size)", '''
def init_lstm_state(batch_size, num_hiddens, device):
    return (torch.zeros((num_hiddens, batch_size), device=device),
            torch.zeros((num_hiddens, batch_size), device=device))
'''),
    ],
    "lstm": [
        ("forgets the tanh of the memory cell", '''
def lstm(inputs, state, params):
    [W_xi, W_hi, b_i, W_xf, W_hf, b_f, W_xo, W_ho, b_o, W_xc, W_hc, b_c, W_hq, b_q] = params
    H, C = state
    outputs = []
    for X in inputs:
        I = torch.sigmoid(X @ W_xi + H @ W_hi + b_i)
        F = torch.sigmoid(X @ W_xf + H @ W_hf + b_f)
        O = torch.sigmoid(X @ W_xo + H @ W_ho + b_o)
        C_tilda = torch.tanh(X @ W_xc + H @ W_hc + b_c)
        C = F * C + I * C_tilda
        H = O * C
        outputs.append(H @ W_hq + b_q)
    return torch.cat(outputs, dim=0), (H, C)
'''),
        ("updates H from the old memory cell", '''
def lstm(inputs, state, params):
    [W_xi, W_hi, b_i, W_xf, W_hf, b_f, W_xo, W_ho, b_o, W_xc, W_hc, b_c, W_hq, b_q] = params
    H, C = state
    outputs = []
    for X in inputs:
        I = torch.sigmoid(X @ W_xi + H @ W_hi + b_i)
        F = torch.sigmoid(X @ W_xf + H @ W_hf + b_f)
        O = torch.sigmoid(X @ W_xo + H @ W_ho + b_o)
        C_tilda = torch.tanh(X @ W_xc + H @ W_hc + b_c)
        H = O * torch.tanh(C)
        C = F * C + I * C_tilda
        outputs.append(H @ W_hq + b_q)
    return torch.cat(outputs, dim=0), (H, C)
'''),
    ],
    "deep_rnn": [
        ("every layer reads the input instead of the layer below", '''
def deep_rnn(inputs, state, params):
    H = list(state)
    outputs = []
    for X in inputs:
        for l, (W_xh, W_hh, b_h) in enumerate(params):
            H[l] = torch.tanh(X @ W_xh + H[l] @ W_hh + b_h)
        outputs.append(H[-1])
    return torch.stack(outputs), tuple(H)
'''),
        ("outputs the bottom layer's states", '''
def deep_rnn(inputs, state, params):
    H = list(state)
    outputs = []
    for X in inputs:
        for l, (W_xh, W_hh, b_h) in enumerate(params):
            H[l] = torch.tanh(X @ W_xh + H[l] @ W_hh + b_h)
            X = H[l]
        outputs.append(H[0])
    return torch.stack(outputs), tuple(H)
'''),
    ],
    "bidirectional_rnn": [
        ("keeps the backward states in reading order (not aligned with the steps)", '''
def bidirectional_rnn(inputs, state, params):
    (W_xf, W_hf, b_f), (W_xb, W_hb, b_b) = params
    H_f, H_b = state
    forward, backward = [], []
    for X in inputs:
        H_f = torch.tanh(X @ W_xf + H_f @ W_hf + b_f)
        forward.append(H_f)
    for X in reversed(list(inputs)):
        H_b = torch.tanh(X @ W_xb + H_b @ W_hb + b_b)
        backward.append(H_b)
    return torch.stack([torch.cat((f, b), -1) for f, b in zip(forward, backward)]), (H_f, H_b)
'''),
        ("the backward direction reuses the forward parameters", '''
def bidirectional_rnn(inputs, state, params):
    W_xh, W_hh, b_h = params[0]
    H_f, H_b = state
    forward, backward = [], []
    for X in inputs:
        H_f = torch.tanh(X @ W_xh + H_f @ W_hh + b_h)
        forward.append(H_f)
    for X in reversed(list(inputs)):
        H_b = torch.tanh(X @ W_xh + H_b @ W_hh + b_h)
        backward.insert(0, H_b)
    return torch.stack([torch.cat((f, b), -1) for f, b in zip(forward, backward)]), (H_f, H_b)
'''),
    ],
    "preprocess_nmt": [
        ("forgets to lower-case", '''
def preprocess_nmt(text):
    text = text.replace('\\u202f', ' ').replace('\\xa0', ' ')
    out = [' ' + c if i > 0 and c in ',.!?' and text[i - 1] != ' ' else c
           for i, c in enumerate(text)]
    return ''.join(out)
'''),
        ("looks for the space before replacing the no-break spaces", '''
def preprocess_nmt(text):
    out = [' ' + c if i > 0 and c in ',.!?' and text[i - 1] != ' ' else c
           for i, c in enumerate(text)]
    return ''.join(out).replace('\\u202f', ' ').replace('\\xa0', ' ').lower()
'''),
    ],
    "tokenize_nmt": [
        ("reads num_examples lines instead of the book's num_examples + 1", '''
def tokenize_nmt(text, num_examples=None):
    source, target = [], []
    for i, line in enumerate(text.split('\\n')):
        if num_examples and i >= num_examples:
            break
        parts = line.split('\\t')
        if len(parts) == 2:
            source.append(parts[0].split(' '))
            target.append(parts[1].split(' '))
    return source, target
'''),
        ("keeps lines with two tabs", '''
def tokenize_nmt(text, num_examples=None):
    source, target = [], []
    for i, line in enumerate(text.split('\\n')):
        if num_examples and i > num_examples:
            break
        parts = line.split('\\t')
        if len(parts) >= 2:
            source.append(parts[0].split(' '))
            target.append(parts[1].split(' '))
    return source, target
'''),
    ],
    "truncate_pad": [
        ("pads on the left", '''
def truncate_pad(line, num_steps, padding_token):
    if len(line) > num_steps:
        return line[:num_steps]
    return [padding_token] * (num_steps - len(line)) + line
'''),
        ("extends the caller's list in place", '''
def truncate_pad(line, num_steps, padding_token):
    if len(line) > num_steps:
        return line[:num_steps]
    line.extend([padding_token] * (num_steps - len(line)))
    return line
'''),
    ],
    "build_array_nmt": [
        ("forgets <eos>", '''
def build_array_nmt(lines, vocab, num_steps):
    lines = [vocab[l] for l in lines]
    array = torch.tensor([truncate_pad(l, num_steps, vocab['<pad>']) for l in lines])
    valid_len = (array != vocab['<pad>']).type(torch.int32).sum(1)
    return array, valid_len
'''),
        ("valid lengths before truncation", '''
def build_array_nmt(lines, vocab, num_steps):
    lines = [vocab[l] + [vocab['<eos>']] for l in lines]
    array = torch.tensor([truncate_pad(l, num_steps, vocab['<pad>']) for l in lines])
    valid_len = torch.tensor([len(l) for l in lines], dtype=torch.int32)
    return array, valid_len
'''),
    ],
    "EncoderDecoder": [
        ("does not pass the extra arguments to the encoder", '''
class EncoderDecoder(nn.Module):
    def __init__(self, encoder, decoder):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder

    def forward(self, enc_X, dec_X, *args):
        enc_outputs = self.encoder(enc_X)
        return self.decoder(dec_X, self.decoder.init_state(enc_outputs, *args))
'''),
        ("makes the state without the extra arguments", '''
class EncoderDecoder(nn.Module):
    def __init__(self, encoder, decoder):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder

    def forward(self, enc_X, dec_X, *args):
        enc_outputs = self.encoder(enc_X, *args)
        return self.decoder(dec_X, self.decoder.init_state(enc_outputs))
'''),
    ],
    "Seq2SeqEncoder": [
        ("feeds the GRU batch-first inputs (forgets the permute)", '''
class Seq2SeqEncoder(Encoder):
    def __init__(self, vocab_size, embed_size, num_hiddens, num_layers, dropout=0):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.rnn = nn.GRU(embed_size, num_hiddens, num_layers, dropout=dropout)

    def forward(self, X, *args):
        return self.rnn(self.embedding(X))
'''),
        ("forgets to pass dropout to the GRU", '''
class Seq2SeqEncoder(Encoder):
    def __init__(self, vocab_size, embed_size, num_hiddens, num_layers, dropout=0):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.rnn = nn.GRU(embed_size, num_hiddens, num_layers)

    def forward(self, X, *args):
        return self.rnn(self.embedding(X).permute(1, 0, 2))
'''),
    ],
    "Seq2SeqDecoder": [
        ("takes the context from the bottom layer, state[0]", '''
class Seq2SeqDecoder(Decoder):
    def __init__(self, vocab_size, embed_size, num_hiddens, num_layers, dropout=0):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.rnn = nn.GRU(embed_size + num_hiddens, num_hiddens, num_layers, dropout=dropout)
        self.dense = nn.Linear(num_hiddens, vocab_size)

    def init_state(self, enc_outputs, *args):
        return enc_outputs[1]

    def forward(self, X, state):
        X = self.embedding(X).permute(1, 0, 2)
        context = state[0].repeat(X.shape[0], 1, 1)
        output, state = self.rnn(torch.cat((X, context), 2), state)
        return self.dense(output).permute(1, 0, 2), state
'''),
        ("returns the scores with time first", '''
class Seq2SeqDecoder(Decoder):
    def __init__(self, vocab_size, embed_size, num_hiddens, num_layers, dropout=0):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.rnn = nn.GRU(embed_size + num_hiddens, num_hiddens, num_layers, dropout=dropout)
        self.dense = nn.Linear(num_hiddens, vocab_size)

    def init_state(self, enc_outputs, *args):
        return enc_outputs[1]

    def forward(self, X, state):
        X = self.embedding(X).permute(1, 0, 2)
        context = state[-1].repeat(X.shape[0], 1, 1)
        output, state = self.rnn(torch.cat((X, context), 2), state)
        return self.dense(output), state
'''),
    ],
    "sequence_mask": [
        ("keeps one step too many (<= instead of <)", '''
def sequence_mask(X, valid_len, value=0):
    mask = torch.arange(X.size(1), device=X.device)[None, :] <= valid_len[:, None]
    X[~mask] = value
    return X
'''),
        ("takes the length of the last dimension as the number of steps", '''
def sequence_mask(X, valid_len, value=0):
    mask = torch.arange(X.size(-1), device=X.device)[None, :] < valid_len[:, None]
    X[~mask] = value
    return X
'''),
    ],
    "MaskedSoftmaxCELoss": [
        ("averages over the valid steps instead of all T", '''
class MaskedSoftmaxCELoss(nn.CrossEntropyLoss):
    def forward(self, pred, label, valid_len):
        weights = sequence_mask(torch.ones_like(label), valid_len)
        self.reduction = 'none'
        unweighted = super().forward(pred.permute(0, 2, 1), label)
        return (unweighted * weights).sum(dim=1) / valid_len
'''),
        ("forgets the mask", '''
class MaskedSoftmaxCELoss(nn.CrossEntropyLoss):
    def forward(self, pred, label, valid_len):
        self.reduction = 'none'
        return super().forward(pred.permute(0, 2, 1), label).mean(dim=1)
'''),
    ],
    "train_seq2seq": [
        ("feeds the decoder the unshifted target", '''
def train_seq2seq(net, data_iter, lr, num_epochs, tgt_vocab, device):
    def init(m):
        if type(m) == nn.Linear:
            nn.init.xavier_uniform_(m.weight)
        if type(m) == nn.GRU:
            for name in m._flat_weights_names:
                if "weight" in name:
                    nn.init.xavier_uniform_(m._parameters[name])
    net.apply(init)
    net.to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    loss = MaskedSoftmaxCELoss()
    net.train()
    for epoch in range(num_epochs):
        metric = Accumulator(2)
        for batch in data_iter:
            optimizer.zero_grad()
            X, X_valid_len, Y, Y_valid_len = [x.to(device) for x in batch]
            Y_hat, _ = net(X, Y, X_valid_len)
            l = loss(Y_hat, Y, Y_valid_len)
            l.sum().backward()
            grad_clipping(net, 1)
            optimizer.step()
            metric.add(l.sum(), Y_valid_len.sum())
    return metric[0] / metric[1], 1.0
'''),
        ("no gradient clipping", '''
def train_seq2seq(net, data_iter, lr, num_epochs, tgt_vocab, device):
    def init(m):
        if type(m) == nn.Linear:
            nn.init.xavier_uniform_(m.weight)
        if type(m) == nn.GRU:
            for name in m._flat_weights_names:
                if "weight" in name:
                    nn.init.xavier_uniform_(m._parameters[name])
    net.apply(init)
    net.to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    loss = MaskedSoftmaxCELoss()
    net.train()
    for epoch in range(num_epochs):
        metric = Accumulator(2)
        for batch in data_iter:
            optimizer.zero_grad()
            X, X_valid_len, Y, Y_valid_len = [x.to(device) for x in batch]
            bos = torch.tensor([tgt_vocab['<bos>']] * Y.shape[0], device=device).reshape(-1, 1)
            Y_hat, _ = net(X, torch.cat([bos, Y[:, :-1]], 1), X_valid_len)
            l = loss(Y_hat, Y, Y_valid_len)
            l.sum().backward()
            optimizer.step()
            metric.add(l.sum(), Y_valid_len.sum())
    return metric[0] / metric[1], 1.0
'''),
    ],
    **DECODING,
}
