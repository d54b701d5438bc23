"""Realistic mistakes for ch15; each must lose points."""

MUTANTS = {
    "BiRNN": [
        ("feeds batch-major inputs to the time-major LSTM", '''
class BiRNN(nn.Module):
    def __init__(self, vocab_size, embed_size, num_hiddens, num_layers, **kwargs):
        super().__init__(**kwargs)
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.encoder = nn.LSTM(embed_size, num_hiddens, num_layers=num_layers,
                               bidirectional=True)
        self.decoder = nn.Linear(4 * num_hiddens, 2)

    def forward(self, inputs):
        outputs, _ = self.encoder(self.embedding(inputs))
        return self.decoder(torch.cat((outputs[0], outputs[-1]), dim=1))
'''),
        ("uses the last output twice", '''
class BiRNN(nn.Module):
    def __init__(self, vocab_size, embed_size, num_hiddens, num_layers, **kwargs):
        super().__init__(**kwargs)
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.encoder = nn.LSTM(embed_size, num_hiddens, num_layers=num_layers,
                               bidirectional=True)
        self.decoder = nn.Linear(4 * num_hiddens, 2)

    def forward(self, inputs):
        outputs, _ = self.encoder(self.embedding(inputs.T))
        return self.decoder(torch.cat((outputs[-1], outputs[-1]), dim=1))
'''),
    ],
    "corr1d": [
        ("misses the last window", '''
def corr1d(X, K):
    w = K.shape[0]
    return torch.stack([(X[i:i + w] * K).sum() for i in range(X.shape[0] - w)])
'''),
        ("flips the kernel (a convolution)", '''
def corr1d(X, K):
    w = K.shape[0]
    return torch.stack([(X[i:i + w] * K.flip(0)).sum() for i in range(X.shape[0] - w + 1)])
'''),
    ],
    "corr1d_multi_in": [
        ("uses the first kernel for every channel", '''
def corr1d_multi_in(X, K):
    return sum(corr1d(x, K[0]) for x in X)
'''),
        ("averages over the channels", '''
def corr1d_multi_in(X, K):
    return sum(corr1d(x, k) for x, k in zip(X, K)) / X.shape[0]
'''),
    ],
    "TextCNN": [
        ("pools by maximum (the book's prose, not its code)", '''
class TextCNN(nn.Module):
    def __init__(self, vocab_size, embed_size, kernel_sizes, num_channels, **kwargs):
        super().__init__(**kwargs)
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.constant_embedding = nn.Embedding(vocab_size, embed_size)
        self.dropout = nn.Dropout(0.5)
        self.decoder = nn.Linear(sum(num_channels), 2)
        self.pool = nn.AdaptiveMaxPool1d(1)
        self.relu = nn.ReLU()
        self.convs = nn.ModuleList(nn.Conv1d(2 * embed_size, c, k)
                                   for c, k in zip(num_channels, kernel_sizes))

    def forward(self, inputs):
        x = torch.cat((self.embedding(inputs), self.constant_embedding(inputs)), dim=2)
        x = x.permute(0, 2, 1)
        encoding = torch.cat([self.relu(self.pool(conv(x))).squeeze(-1) for conv in self.convs],
                             dim=1)
        return self.decoder(self.dropout(encoding))
'''),
        ("uses only the trained embedding twice", '''
class TextCNN(nn.Module):
    def __init__(self, vocab_size, embed_size, kernel_sizes, num_channels, **kwargs):
        super().__init__(**kwargs)
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.constant_embedding = nn.Embedding(vocab_size, embed_size)
        self.dropout = nn.Dropout(0.5)
        self.decoder = nn.Linear(sum(num_channels), 2)
        self.pool = nn.AdaptiveAvgPool1d(1)
        self.relu = nn.ReLU()
        self.convs = nn.ModuleList(nn.Conv1d(2 * embed_size, c, k)
                                   for c, k in zip(num_channels, kernel_sizes))

    def forward(self, inputs):
        x = torch.cat((self.embedding(inputs), self.embedding(inputs)), dim=2)
        x = x.permute(0, 2, 1)
        encoding = torch.cat([self.relu(self.pool(conv(x))).squeeze(-1) for conv in self.convs],
                             dim=1)
        return self.decoder(self.dropout(encoding))
'''),
    ],
    "mlp": [
        ("forgets the final ReLU", '''
def mlp(num_inputs, num_hiddens, flatten):
    net = [nn.Dropout(0.2), nn.Linear(num_inputs, num_hiddens), nn.ReLU()]
    if flatten:
        net.append(nn.Flatten(start_dim=1))
    net += [nn.Dropout(0.2), nn.Linear(num_hiddens, num_hiddens)]
    if flatten:
        net.append(nn.Flatten(start_dim=1))
    net.append(nn.ReLU())
    return nn.Sequential(*net)
'''),
        ("dropout of 0.5", '''
def mlp(num_inputs, num_hiddens, flatten):
    net = [nn.Dropout(0.5), nn.Linear(num_inputs, num_hiddens), nn.ReLU()]
    if flatten:
        net.append(nn.Flatten(start_dim=1))
    net += [nn.Dropout(0.5), nn.Linear(num_hiddens, num_hiddens), nn.ReLU()]
    if flatten:
        net.append(nn.Flatten(start_dim=1))
    return nn.Sequential(*net)
'''),
    ],
    "Attend": [
        ("softmax over the wrong axis for beta", '''
class Attend(nn.Module):
    def __init__(self, num_inputs, num_hiddens, **kwargs):
        super().__init__(**kwargs)
        self.f = mlp(num_inputs, num_hiddens, flatten=False)

    def forward(self, A, B):
        e = torch.bmm(self.f(A), self.f(B).permute(0, 2, 1))
        beta = torch.bmm(F.softmax(e, dim=1), B)
        alpha = torch.bmm(F.softmax(e.permute(0, 2, 1), dim=-1), A)
        return beta, alpha
'''),
        ("normalises alpha over the wrong axis (softmax, then transpose)", '''
class Attend(nn.Module):
    def __init__(self, num_inputs, num_hiddens, **kwargs):
        super().__init__(**kwargs)
        self.f = mlp(num_inputs, num_hiddens, flatten=False)

    def forward(self, A, B):
        e = torch.bmm(self.f(A), self.f(B).permute(0, 2, 1))
        beta = torch.bmm(F.softmax(e, dim=-1), B)
        alpha = torch.bmm(F.softmax(e, dim=-1).permute(0, 2, 1), A)
        return beta, alpha
'''),
    ],
    "Compare": [
        ("pairs A with alpha", '''
class Compare(nn.Module):
    def __init__(self, num_inputs, num_hiddens, **kwargs):
        super().__init__(**kwargs)
        self.g = mlp(num_inputs, num_hiddens, flatten=False)

    def forward(self, A, B, beta, alpha):
        return (self.g(torch.cat([A, beta], dim=2)),
                self.g(torch.cat([alpha, B], dim=2)))
'''),
        ("concatenates on the token axis", '''
class Compare(nn.Module):
    def __init__(self, num_inputs, num_hiddens, **kwargs):
        super().__init__(**kwargs)
        self.g = mlp(num_inputs // 2, num_hiddens, flatten=False)

    def forward(self, A, B, beta, alpha):
        return (self.g(torch.cat([A, beta], dim=1)),
                self.g(torch.cat([B, alpha], dim=1)))
'''),
    ],
    "Aggregate": [
        ("averages instead of summing", '''
class Aggregate(nn.Module):
    def __init__(self, num_inputs, num_hiddens, num_outputs, **kwargs):
        super().__init__(**kwargs)
        self.h = mlp(num_inputs, num_hiddens, flatten=True)
        self.linear = nn.Linear(num_hiddens, num_outputs)

    def forward(self, V_A, V_B):
        return self.linear(self.h(torch.cat([V_A.mean(dim=1), V_B.mean(dim=1)], dim=1)))
'''),
        ("forgets h", '''
class Aggregate(nn.Module):
    def __init__(self, num_inputs, num_hiddens, num_outputs, **kwargs):
        super().__init__(**kwargs)
        self.h = mlp(num_inputs, num_hiddens, flatten=True)
        self.linear = nn.Linear(num_hiddens, num_outputs)

    def forward(self, V_A, V_B):
        X = torch.cat([V_A.sum(dim=1), V_B.sum(dim=1)], dim=1)
        return self.linear(self.h[1](X))
'''),
    ],
    "load_pretrained_model": [
        ("keeps the book's hard-coded 4 heads", '''
def load_pretrained_model(data_dir, num_hiddens, ffn_num_hiddens, num_heads, num_layers,
                          dropout, max_len, devices):
    vocab = course.Vocab()
    vocab.idx_to_token = json.load(open(os.path.join(data_dir, "vocab.json")))
    vocab.token_to_idx = {t: i for i, t in enumerate(vocab.idx_to_token)}
    n = num_hiddens
    bert = course.BERTModel(len(vocab), n, [n], n, ffn_num_hiddens, 4, num_layers, dropout,
                            max_len, n, n, n, n, n, n)
    bert.load_state_dict(torch.load(os.path.join(data_dir, "pretrained.params")))
    return bert, vocab
'''),
        ("forgets token_to_idx", '''
def load_pretrained_model(data_dir, num_hiddens, ffn_num_hiddens, num_heads, num_layers,
                          dropout, max_len, devices):
    vocab = course.Vocab()
    vocab.idx_to_token = json.load(open(os.path.join(data_dir, "vocab.json")))
    n = num_hiddens
    bert = course.BERTModel(len(vocab), n, [n], n, ffn_num_hiddens, num_heads, num_layers,
                            dropout, max_len, n, n, n, n, n, n)
    bert.load_state_dict(torch.load(os.path.join(data_dir, "pretrained.params")))
    return bert, vocab
'''),
    ],
    "_truncate_pair_of_tokens": [
        ("leaves room for two special tokens", '''
def _truncate_pair_of_tokens(p_tokens, h_tokens, max_len):
    while len(p_tokens) + len(h_tokens) > max_len - 2:
        if len(p_tokens) > len(h_tokens):
            p_tokens.pop()
        else:
            h_tokens.pop()
'''),
        ("drops from the premise on a tie", '''
def _truncate_pair_of_tokens(p_tokens, h_tokens, max_len):
    while len(p_tokens) + len(h_tokens) > max_len - 3:
        if len(p_tokens) >= len(h_tokens):
            p_tokens.pop()
        else:
            h_tokens.pop()
'''),
    ],
    "SNLIBERTDataset": [
        ("pads segments with 1", '''
class SNLIBERTDataset(torch.utils.data.Dataset):
    def __init__(self, dataset, max_len, vocab=None):
        self.vocab, self.max_len = vocab, max_len
        self.labels = torch.tensor(dataset[2])
        ids, segs, lens = [], [], []
        for p, h in zip(*(course.tokenize([s.lower() for s in d]) for d in dataset[:2])):
            _truncate_pair_of_tokens(p, h, max_len)
            tokens, segments = course.get_tokens_and_segments(p, h)
            pad = max_len - len(tokens)
            ids.append(vocab[tokens] + [vocab["<pad>"]] * pad)
            segs.append(segments + [1] * pad)
            lens.append(len(tokens))
        self.all_token_ids = torch.tensor(ids)
        self.all_segments = torch.tensor(segs)
        self.valid_lens = torch.tensor(lens)

    def __getitem__(self, idx):
        return (self.all_token_ids[idx], self.all_segments[idx], self.valid_lens[idx]), \\
            self.labels[idx]

    def __len__(self):
        return len(self.all_token_ids)
'''),
        ("counts the valid length after padding", '''
class SNLIBERTDataset(torch.utils.data.Dataset):
    def __init__(self, dataset, max_len, vocab=None):
        self.vocab, self.max_len = vocab, max_len
        self.labels = torch.tensor(dataset[2])
        ids, segs, lens = [], [], []
        for p, h in zip(*(course.tokenize([s.lower() for s in d]) for d in dataset[:2])):
            _truncate_pair_of_tokens(p, h, max_len)
            tokens, segments = course.get_tokens_and_segments(p, h)
            pad = max_len - len(tokens)
            ids.append(vocab[tokens] + [vocab["<pad>"]] * pad)
            segs.append(segments + [0] * pad)
            lens.append(len(ids[-1]))
        self.all_token_ids = torch.tensor(ids)
        self.all_segments = torch.tensor(segs)
        self.valid_lens = torch.tensor(lens)

    def __getitem__(self, idx):
        return (self.all_token_ids[idx], self.all_segments[idx], self.valid_lens[idx]), \\
            self.labels[idx]

    def __len__(self):
        return len(self.all_token_ids)
'''),
    ],
    "BERTClassifier": [
        ("classifies the last token instead of <cls>", '''
class BERTClassifier(nn.Module):
    def __init__(self, bert):
        super().__init__()
        self.encoder = bert.encoder
        self.hidden = bert.hidden
        self.output = nn.Linear(bert.hidden[0].out_features, 3)

    def forward(self, inputs):
        encoded_X = self.encoder(*inputs)
        return self.output(self.hidden(encoded_X[:, -1, :]))
'''),
        ("copies the encoder, so fine-tuning does not train bert's", '''
import copy


class BERTClassifier(nn.Module):
    def __init__(self, bert):
        super().__init__()
        self.encoder = copy.deepcopy(bert.encoder)
        self.hidden = bert.hidden
        self.output = nn.Linear(bert.hidden[0].out_features, 3)

    def forward(self, inputs):
        tokens_X, segments_X, valid_lens_x = inputs
        encoded_X = self.encoder(tokens_X, segments_X, valid_lens_x)
        return self.output(self.hidden(encoded_X[:, 0, :]))
'''),
    ],
}
