"""Correct ch15 answers written in other reasonable styles; each must earn full marks.

``VACUOUS`` holds answers that return nothing useful; each must earn nothing.
"""

VARIANTS = {
    "BiRNN": [
        ("the book's code", '''
class BiRNN(nn.Module):
    def __init__(self, vocab_size, embed_size, num_hiddens,
                 num_layers, **kwargs):
        super(BiRNN, self).__init__(**kwargs)
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.encoder = nn.LSTM(embed_size, num_hiddens, num_layers=num_layers,
                                bidirectional=True)
        self.decoder = nn.Linear(4 * num_hiddens, 2)

    def forward(self, inputs):
        embeddings = self.embedding(inputs.T)
        self.encoder.flatten_parameters()
        outputs, _ = self.encoder(embeddings)
        encoding = torch.cat((outputs[0], outputs[-1]), dim=1)
        outs = self.decoder(encoding)
        return outs
'''),
        ("batch-first through transposes and indexing by time", '''
class BiRNN(nn.Module):
    def __init__(self, vocab_size, embed_size, num_hiddens, num_layers):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.encoder = nn.LSTM(embed_size, num_hiddens, num_layers, bidirectional=True)
        self.decoder = nn.Linear(num_hiddens * 4, 2)

    def forward(self, inputs):
        out = self.encoder(self.embedding(inputs).transpose(0, 1))[0].transpose(0, 1)
        return self.decoder(torch.cat([out[:, 0], out[:, out.shape[1] - 1]], -1))
'''),
    ],
    "corr1d": [
        ("the book's code", '''
def corr1d(X, K):
    w = K.shape[0]
    Y = torch.zeros((X.shape[0] - w + 1))
    for i in range(Y.shape[0]):
        Y[i] = (X[i: i + w] * K).sum()
    return Y
'''),
        ("vectorized with unfold", '''
def corr1d(X, K):
    return X.unfold(0, K.shape[0], 1) @ K
'''),
    ],
    "corr1d_multi_in": [
        ("the book's code", '''
def corr1d_multi_in(X, K):
    return sum(corr1d(x, k) for x, k in zip(X, K))
'''),
        ("stacks and sums", '''
def corr1d_multi_in(X, K):
    return torch.stack([corr1d(X[c], K[c]) for c in range(X.shape[0])]).sum(dim=0)
'''),
    ],
    "TextCNN": [
        ("the book's code", '''
class TextCNN(nn.Module):
    def __init__(self, vocab_size, embed_size, kernel_sizes, num_channels,
                 **kwargs):
        super(TextCNN, self).__init__(**kwargs)
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.constant_embedding = nn.Embedding(vocab_size, embed_size)
        self.dropout = nn.Dropout(0.5)
        self.decoder = nn.Linear(sum(num_channels), 2)
        self.pool = nn.AdaptiveAvgPool1d(1)
        self.relu = nn.ReLU()
        self.convs = nn.ModuleList()
        for c, k in zip(num_channels, kernel_sizes):
            self.convs.append(nn.Conv1d(2 * embed_size, c, k))

    def forward(self, inputs):
        embeddings = torch.cat((
            self.embedding(inputs), self.constant_embedding(inputs)), dim=2)
        embeddings = embeddings.permute(0, 2, 1)
        encoding = torch.cat([
            torch.squeeze(self.relu(self.pool(conv(embeddings))), dim=-1)
            for conv in self.convs], dim=1)
        outputs = self.decoder(self.dropout(encoding))
        return outputs
'''),
        ("pools with mean over time by hand", '''
class TextCNN(nn.Module):
    def __init__(self, vocab_size, embed_size, kernel_sizes, num_channels):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.constant_embedding = nn.Embedding(vocab_size, embed_size)
        self.dropout = nn.Dropout(0.5)
        self.decoder = nn.Linear(sum(num_channels), 2)
        self.pool = nn.AdaptiveAvgPool1d(1)
        self.relu = nn.ReLU()
        self.convs = nn.ModuleList([nn.Conv1d(2 * embed_size, c, k)
                                    for c, k in zip(num_channels, kernel_sizes)])

    def forward(self, inputs):
        x = torch.cat([self.embedding(inputs), self.constant_embedding(inputs)], -1)
        x = x.transpose(1, 2)
        feats = [torch.relu(conv(x).mean(dim=2)) for conv in self.convs]
        return self.decoder(self.dropout(torch.cat(feats, dim=1)))
'''),
    ],
    "mlp": [
        ("the book's code", '''
def mlp(num_inputs, num_hiddens, flatten):
    net = []
    net.append(nn.Dropout(0.2))
    net.append(nn.Linear(num_inputs, num_hiddens))
    net.append(nn.ReLU())
    if flatten:
        net.append(nn.Flatten(start_dim=1))
    net.append(nn.Dropout(0.2))
    net.append(nn.Linear(num_hiddens, num_hiddens))
    net.append(nn.ReLU())
    if flatten:
        net.append(nn.Flatten(start_dim=1))
    return nn.Sequential(*net)
'''),
    ],
    "Attend": [
        ("the book's code", '''
class Attend(nn.Module):
    def __init__(self, num_inputs, num_hiddens, **kwargs):
        super(Attend, self).__init__(**kwargs)
        self.f = mlp(num_inputs, num_hiddens, flatten=False)

    def forward(self, A, B):
        f_A = self.f(A)
        f_B = self.f(B)
        e = torch.bmm(f_A, f_B.permute(0, 2, 1))
        beta = torch.bmm(F.softmax(e, dim=-1), B)
        alpha = torch.bmm(F.softmax(e.permute(0, 2, 1), dim=-1), A)
        return beta, alpha
'''),
        ("einsum and softmax over axis 1 for alpha", '''
class Attend(nn.Module):
    def __init__(self, num_inputs, num_hiddens):
        super().__init__()
        self.f = mlp(num_inputs, num_hiddens, False)

    def forward(self, A, B):
        e = torch.einsum("bih,bjh->bij", self.f(A), self.f(B))
        beta = torch.einsum("bij,bjd->bid", e.softmax(dim=2), B)
        alpha = torch.einsum("bij,bid->bjd", e.softmax(dim=1), A)
        return beta, alpha
'''),
    ],
    "Compare": [
        ("the book's code", '''
class Compare(nn.Module):
    def __init__(self, num_inputs, num_hiddens, **kwargs):
        super(Compare, self).__init__(**kwargs)
        self.g = mlp(num_inputs, num_hiddens, flatten=False)

    def forward(self, A, B, beta, alpha):
        V_A = self.g(torch.cat([A, beta], dim=2))
        V_B = self.g(torch.cat([B, alpha], dim=2))
        return V_A, V_B
'''),
    ],
    "Aggregate": [
        ("the book's code", '''
class Aggregate(nn.Module):
    def __init__(self, num_inputs, num_hiddens, num_outputs, **kwargs):
        super(Aggregate, self).__init__(**kwargs)
        self.h = mlp(num_inputs, num_hiddens, flatten=True)
        self.linear = nn.Linear(num_hiddens, num_outputs)

    def forward(self, V_A, V_B):
        V_A = V_A.sum(dim=1)
        V_B = V_B.sum(dim=1)
        Y_hat = self.linear(self.h(torch.cat([V_A, V_B], dim=1)))
        return Y_hat
'''),
    ],
    "load_pretrained_model": [
        ("the book's code with the folder and sizes from the arguments", '''
def load_pretrained_model(pretrained_model, num_hiddens, ffn_num_hiddens,
                          num_heads, num_layers, dropout, max_len, devices):
    data_dir = pretrained_model
    vocab = course.Vocab()
    vocab.idx_to_token = json.load(open(os.path.join(data_dir, 'vocab.json')))
    vocab.token_to_idx = {token: idx for idx, token in enumerate(
        vocab.idx_to_token)}
    bert = course.BERTModel(len(vocab), num_hiddens, norm_shape=[num_hiddens],
                            ffn_num_input=num_hiddens, ffn_num_hiddens=ffn_num_hiddens,
                            num_heads=num_heads, num_layers=num_layers, dropout=dropout,
                            max_len=max_len, key_size=num_hiddens, query_size=num_hiddens,
                            value_size=num_hiddens, hid_in_features=num_hiddens,
                            mlm_in_features=num_hiddens, nsp_in_features=num_hiddens)
    bert.load_state_dict(torch.load(os.path.join(data_dir, 'pretrained.params')))
    return bert, vocab
'''),
        ("pathlib and positional sizes", '''
def load_pretrained_model(data_dir, num_hiddens, ffn_num_hiddens, num_heads, num_layers,
                          dropout, max_len, devices):
    from pathlib import Path

    folder = Path(data_dir)
    tokens = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
    vocab = course.Vocab()
    vocab.idx_to_token = tokens
    vocab.token_to_idx = dict(zip(tokens, range(len(tokens))))
    n = num_hiddens
    bert = course.BERTModel(len(tokens), n, [n], n, ffn_num_hiddens, num_heads, num_layers,
                            dropout, max_len, n, n, n, n, n, n)
    state = torch.load(folder / "pretrained.params", map_location="cpu")
    bert.load_state_dict(state)
    return bert, vocab
'''),
    ],
    "_truncate_pair_of_tokens": [
        ("the book's loop as a function", '''
def _truncate_pair_of_tokens(p_tokens, h_tokens, max_len):
    while len(p_tokens) + len(h_tokens) > max_len - 3:
        if len(p_tokens) > len(h_tokens):
            p_tokens.pop()
        else:
            h_tokens.pop()
'''),
        ("deletes slices", '''
def _truncate_pair_of_tokens(p_tokens, h_tokens, max_len):
    excess = len(p_tokens) + len(h_tokens) - (max_len - 3)
    for _ in range(max(excess, 0)):
        longer = p_tokens if len(p_tokens) > len(h_tokens) else h_tokens
        del longer[-1:]
'''),
    ],
    "SNLIBERTDataset": [
        ("the book's code without the process pool", '''
class SNLIBERTDataset(torch.utils.data.Dataset):
    def __init__(self, dataset, max_len, vocab=None):
        all_premise_hypothesis_tokens = [[
            p_tokens, h_tokens] for p_tokens, h_tokens in zip(
            *[course.tokenize([s.lower() for s in sentences])
              for sentences in dataset[:2]])]

        self.labels = torch.tensor(dataset[2])
        self.vocab = vocab
        self.max_len = max_len
        (self.all_token_ids, self.all_segments,
         self.valid_lens) = self._preprocess(all_premise_hypothesis_tokens)
        print('read ' + str(len(self.all_token_ids)) + ' examples')

    def _preprocess(self, all_premise_hypothesis_tokens):
        out = map(self._mp_worker, all_premise_hypothesis_tokens)
        out = list(out)
        all_token_ids = [
            token_ids for token_ids, segments, valid_len in out]
        all_segments = [segments for token_ids, segments, valid_len in out]
        valid_lens = [valid_len for token_ids, segments, valid_len in out]
        return (torch.tensor(all_token_ids, dtype=torch.long),
                torch.tensor(all_segments, dtype=torch.long),
                torch.tensor(valid_lens))

    def _mp_worker(self, premise_hypothesis_tokens):
        p_tokens, h_tokens = premise_hypothesis_tokens
        self._truncate_pair_of_tokens(p_tokens, h_tokens)
        tokens, segments = course.get_tokens_and_segments(p_tokens, h_tokens)
        token_ids = self.vocab[tokens] + [self.vocab['<pad>']] \\
                             * (self.max_len - len(tokens))
        segments = segments + [0] * (self.max_len - len(segments))
        valid_len = len(tokens)
        return token_ids, segments, valid_len

    def _truncate_pair_of_tokens(self, p_tokens, h_tokens):
        while len(p_tokens) + len(h_tokens) > self.max_len - 3:
            if len(p_tokens) > len(h_tokens):
                p_tokens.pop()
            else:
                h_tokens.pop()

    def __getitem__(self, idx):
        return (self.all_token_ids[idx], self.all_segments[idx],
                self.valid_lens[idx]), self.labels[idx]

    def __len__(self):
        return len(self.all_token_ids)
'''),
    ],
    "BERTClassifier": [
        ("the book's code with the size read from bert", '''
class BERTClassifier(nn.Module):
    def __init__(self, bert):
        super(BERTClassifier, self).__init__()
        self.encoder = bert.encoder
        self.hidden = bert.hidden
        self.output = nn.Linear(bert.hidden[0].out_features, 3)

    def forward(self, inputs):
        tokens_X, segments_X, valid_lens_x = inputs
        encoded_X = self.encoder(tokens_X, segments_X, valid_lens_x)
        return self.output(self.hidden(encoded_X[:, 0, :]))
'''),
        ("reads the size from the encoder's embedding", '''
class BERTClassifier(nn.Module):
    def __init__(self, bert):
        super().__init__()
        self.encoder, self.hidden = bert.encoder, bert.hidden
        self.output = nn.Linear(bert.encoder.token_embedding.embedding_dim, 3)

    def forward(self, inputs):
        cls = self.encoder(*inputs)[:, 0]
        return self.output(self.hidden(cls))
'''),
    ],
}

VACUOUS = {
    "BiRNN": ("an empty module", '''
def BiRNN(*args, **kwargs):
    return nn.Module()
'''),
    "corr1d": ("zeros", '''
def corr1d(X, K):
    return torch.zeros(X.shape[0] - K.shape[0] + 1)
'''),
    "corr1d_multi_in": ("zeros", '''
def corr1d_multi_in(X, K):
    return torch.zeros(X.shape[1] - K.shape[1] + 1)
'''),
    "TextCNN": ("an empty module", '''
def TextCNN(*args, **kwargs):
    return nn.Module()
'''),
    "mlp": ("an empty Sequential", '''
def mlp(num_inputs, num_hiddens, flatten):
    return nn.Sequential()
'''),
    "Attend": ("an identity layer", '''
def Attend(*args, **kwargs):
    return nn.Identity()
'''),
    "Compare": ("an identity layer", '''
def Compare(*args, **kwargs):
    return nn.Identity()
'''),
    "Aggregate": ("an empty module", '''
def Aggregate(*args, **kwargs):
    return nn.Module()
'''),
    "load_pretrained_model": ("returns nothing", '''
def load_pretrained_model(data_dir, num_hiddens, ffn_num_hiddens, num_heads, num_layers,
                          dropout, max_len, devices):
    return None, None
'''),
    "_truncate_pair_of_tokens": ("does nothing", '''
def _truncate_pair_of_tokens(p_tokens, h_tokens, max_len):
    pass
'''),
    "SNLIBERTDataset": ("an empty list", '''
def SNLIBERTDataset(dataset, max_len, vocab=None):
    return []
'''),
    "BERTClassifier": ("an empty module", '''
def BERTClassifier(bert):
    return nn.Module()
'''),
}
