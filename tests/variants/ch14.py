"""Correct ch14 answers written in other reasonable styles; each must earn full marks.

``VACUOUS`` holds answers that return nothing useful; each must earn nothing. The reference
solutions are the book's own code (``solutions/ch14.py``; ``BERTEncoder`` differs on purpose:
its positional embedding trains, and ``MaskLM`` builds its batch index on ``X``'s device),
graded through the source notebook.
"""

VARIANTS = {
    "subsample": [
        ("torch's generator and a Counter over a flat list", '''
def subsample(sentences, vocab):
    known = [[t for t in line if vocab[t] != vocab.unk] for line in sentences]
    counter = collections.Counter(t for line in known for t in line)
    total = sum(counter.values())
    out = []
    for line in known:
        keep = torch.rand(len(line)) < torch.tensor(
            [math.sqrt(1e-4 * total / counter[t]) for t in line])
        out.append([t for t, k in zip(line, keep.tolist()) if k])
    return out, counter
'''),
    ],
    "get_centers_and_contexts": [
        ("torch.randint for the window and slicing", '''
def get_centers_and_contexts(corpus, max_window_size):
    centers, contexts = [], []
    for line in corpus:
        if len(line) < 2:
            continue
        for i, c in enumerate(line):
            w = int(torch.randint(1, max_window_size + 1, ()))
            centers.append(c)
            contexts.append(line[max(0, i - w):i] + line[i + 1:i + 1 + w])
    return centers, contexts
'''),
    ],
    "RandomGenerator": [
        ("torch.multinomial, one draw at a time", '''
class RandomGenerator:
    def __init__(self, sampling_weights):
        self.weights = torch.tensor(sampling_weights, dtype=torch.float64)

    def draw(self):
        return int(torch.multinomial(self.weights, 1)) + 1
'''),
    ],
    "get_negatives": [
        ("a set of the contexts and a for loop over the needed count", '''
def get_negatives(all_contexts, vocab, counter, K):
    weights = [counter[vocab.idx_to_token[i]] ** 0.75 for i in range(1, len(vocab))]
    gen = RandomGenerator(weights)
    result = []
    for contexts in all_contexts:
        banned, picked = set(contexts), []
        for _ in range(K * len(contexts)):
            k = gen.draw()
            while k in banned:
                k = gen.draw()
            picked.append(k)
        result.append(picked)
    return result
'''),
    ],
    "batchify": [
        ("pad_sequence", '''
def batchify(data):
    rows = [torch.tensor(c + n, dtype=torch.long) for _, c, n in data]
    cn = nn.utils.rnn.pad_sequence(rows, batch_first=True)
    lengths = torch.tensor([len(c) + len(n) for _, c, n in data])
    n_ctx = torch.tensor([len(c) for _, c, _ in data])
    steps = torch.arange(cn.shape[1])[None, :]
    masks = (steps < lengths[:, None]).long()
    labels = (steps < n_ctx[:, None]).long()
    centers = torch.tensor([[c] for c, _, _ in data])
    return centers, cn, masks, labels
'''),
    ],
    "skip_gram": [
        ("einsum", '''
def skip_gram(center, contexts_and_negatives, embed_v, embed_u):
    return torch.einsum("bid,bld->bil", embed_v(center), embed_u(contexts_and_negatives))
'''),
    ],
    "SigmoidBCELoss": [
        ("written out with logsigmoid", '''
class SigmoidBCELoss(nn.Module):
    def forward(self, inputs, target, mask=None):
        out = -(target * F.logsigmoid(inputs) + (1 - target) * F.logsigmoid(-inputs))
        if mask is not None:
            out = out * mask
        return out.sum(dim=1) / inputs.shape[1]
'''),
    ],
    "get_max_freq_pair": [
        ("a Counter and most_common", '''
def get_max_freq_pair(token_freqs):
    pairs = collections.Counter()
    for token, freq in token_freqs.items():
        s = token.split()
        for pair in zip(s, s[1:]):
            pairs[pair] += freq
    return pairs.most_common(1)[0][0]
'''),
    ],
    "merge_symbols": [
        ("merges symbol by symbol", '''
def merge_symbols(max_freq_pair, token_freqs, symbols):
    merged = "".join(max_freq_pair)
    symbols.append(merged)
    out = {}
    for token, freq in token_freqs.items():
        s, pieces, i = token.split(), [], 0
        while i < len(s):
            if i + 1 < len(s) and (s[i], s[i + 1]) == tuple(max_freq_pair):
                pieces.append(merged)
                i += 2
            else:
                pieces.append(s[i])
                i += 1
        out[" ".join(pieces)] = freq
    return out
'''),
    ],
    "segment_BPE": [
        ("a for loop over the end positions", '''
def segment_BPE(tokens, symbols):
    known = set(symbols)
    outputs = []
    for token in tokens:
        start, pieces = 0, []
        while start < len(token):
            for end in range(len(token), start, -1):
                if token[start:end] in known:
                    pieces.append(token[start:end])
                    start = end
                    break
            else:
                pieces.append("[UNK]")
                break
        outputs.append(" ".join(pieces))
    return outputs
'''),
    ],
    "get_tokens_and_segments": [
        ("built in one expression each", '''
def get_tokens_and_segments(tokens_a, tokens_b=None):
    b = [] if tokens_b is None else [*tokens_b, "<sep>"]
    return ["<cls>", *tokens_a, "<sep>", *b], [0] * (len(tokens_a) + 2) + [1] * len(b)
'''),
    ],
    "BERTEncoder": [
        ("nn.ModuleList and a zero-initialised positional embedding", '''
class BERTEncoder(nn.Module):
    def __init__(self, vocab_size, num_hiddens, norm_shape, ffn_num_input, ffn_num_hiddens,
                 num_heads, num_layers, dropout, max_len=1000, key_size=768, query_size=768,
                 value_size=768, **kwargs):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab_size, num_hiddens)
        self.segment_embedding = nn.Embedding(2, num_hiddens)
        self.blks = nn.ModuleList([
            EncoderBlock(key_size, query_size, value_size, num_hiddens, norm_shape,
                         ffn_num_input, ffn_num_hiddens, num_heads, dropout, True)
            for _ in range(num_layers)])
        self.pos_embedding = nn.Parameter(torch.zeros(1, max_len, num_hiddens))

    def forward(self, tokens, segments, valid_lens):
        T = tokens.shape[1]
        X = self.token_embedding(tokens) + self.segment_embedding(segments) \\
            + self.pos_embedding[:, :T]
        for blk in self.blks:
            X = blk(X, valid_lens)
        return X
'''),
    ],
    "MaskLM": [
        ("torch.gather", '''
class MaskLM(nn.Module):
    def __init__(self, vocab_size, num_hiddens, num_inputs=768, **kwargs):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(num_inputs, num_hiddens), nn.ReLU(),
                                 nn.LayerNorm(num_hiddens), nn.Linear(num_hiddens, vocab_size))

    def forward(self, X, pred_positions):
        index = pred_positions.unsqueeze(-1).expand(-1, -1, X.shape[-1])
        return self.mlp(X.gather(1, index))
'''),
    ],
    "NextSentencePred": [
        ("super().__init__() without kwargs", '''
class NextSentencePred(nn.Module):
    def __init__(self, num_inputs, **kwargs):
        super().__init__()
        self.output = nn.Linear(num_inputs, 2)

    def forward(self, X):
        return self.output(X)
'''),
    ],
    "BERTModel": [
        ("keyword arguments and a conditional expression", '''
class BERTModel(nn.Module):
    def __init__(self, vocab_size, num_hiddens, norm_shape, ffn_num_input, ffn_num_hiddens,
                 num_heads, num_layers, dropout, max_len=1000, key_size=768, query_size=768,
                 value_size=768, hid_in_features=768, mlm_in_features=768,
                 nsp_in_features=768):
        super().__init__()
        self.encoder = BERTEncoder(
            vocab_size=vocab_size, num_hiddens=num_hiddens, norm_shape=norm_shape,
            ffn_num_input=ffn_num_input, ffn_num_hiddens=ffn_num_hiddens,
            num_heads=num_heads, num_layers=num_layers, dropout=dropout, max_len=max_len,
            key_size=key_size, query_size=query_size, value_size=value_size)
        self.hidden = nn.Sequential(nn.Linear(hid_in_features, num_hiddens), nn.Tanh())
        self.mlm = MaskLM(vocab_size, num_hiddens, num_inputs=mlm_in_features)
        self.nsp = NextSentencePred(nsp_in_features)

    def forward(self, tokens, segments, valid_lens=None, pred_positions=None):
        X = self.encoder(tokens, segments, valid_lens)
        mlm = self.mlm(X, pred_positions) if pred_positions is not None else None
        return X, mlm, self.nsp(self.hidden(X[:, 0]))
'''),
    ],
    "_get_next_sentence": [
        ("torch's generator for the choices", '''
def _get_next_sentence(sentence, next_sentence, paragraphs):
    if bool(torch.rand(()) < 0.5):
        return sentence, next_sentence, True
    paragraph = paragraphs[int(torch.randint(len(paragraphs), ()))]
    return sentence, paragraph[int(torch.randint(len(paragraph), ()))], False
'''),
    ],
    "_replace_mlm_tokens": [
        ("random.sample and one uniform draw per position", '''
def _replace_mlm_tokens(tokens, candidate_pred_positions, num_mlm_preds, vocab):
    chosen = random.sample(candidate_pred_positions,
                           min(num_mlm_preds, len(candidate_pred_positions)))
    out = list(tokens)
    for p in chosen:
        u = random.random()
        if u < 0.8:
            out[p] = "<mask>"
        elif u >= 0.9:
            out[p] = vocab.idx_to_token[random.randrange(len(vocab.idx_to_token))]
    return out, [(p, tokens[p]) for p in chosen]
'''),
    ],
    "_get_mlm_data_from_tokens": [
        ("sorted pairs unzipped", '''
def _get_mlm_data_from_tokens(tokens, vocab):
    candidates = [i for i, t in enumerate(tokens) if t != "<cls>" and t != "<sep>"]
    corrupted, pairs = _replace_mlm_tokens(tokens, candidates,
                                           max(1, round(len(tokens) * 0.15)), vocab)
    pairs = sorted(pairs)
    positions = [p for p, _ in pairs]
    return vocab[corrupted], positions, vocab[[t for _, t in pairs]]
'''),
    ],
    "_pad_bert_inputs": [
        ("torch.full and slicing", '''
def _pad_bert_inputs(examples, max_len, vocab):
    n = round(max_len * 0.15)
    cols = tuple([] for _ in range(7))
    for token_ids, positions, labels, segments, is_next in examples:
        ids = torch.full((max_len,), vocab["<pad>"], dtype=torch.long)
        ids[:len(token_ids)] = torch.tensor(token_ids)
        seg = torch.zeros(max_len, dtype=torch.long)
        seg[:len(segments)] = torch.tensor(segments)
        pos, lab = torch.zeros(n, dtype=torch.long), torch.zeros(n, dtype=torch.long)
        w = torch.zeros(n)
        pos[:len(positions)] = torch.tensor(positions, dtype=torch.long)
        lab[:len(labels)] = torch.tensor(labels, dtype=torch.long)
        w[:len(labels)] = 1.0
        for col, value in zip(cols, (ids, seg, torch.tensor(float(len(token_ids))), pos, w,
                                     lab, torch.tensor(int(is_next)))):
            col.append(value)
    return cols
'''),
    ],
    "_get_batch_loss_bert": [
        ("flattens the weights first", '''
def _get_batch_loss_bert(net, loss, vocab_size, tokens_X, segments_X, valid_lens_x,
                         pred_positions_X, mlm_weights_X, mlm_Y, nsp_y):
    _, mlm_Y_hat, nsp_Y_hat = net(tokens_X, segments_X, valid_lens_x.flatten(),
                                  pred_positions_X)
    w = mlm_weights_X.flatten()
    mlm_l = (loss(mlm_Y_hat.flatten(0, 1), mlm_Y.flatten()) * w).sum() / (w.sum() + 1e-8)
    nsp_l = loss(nsp_Y_hat, nsp_y)
    return mlm_l, nsp_l, mlm_l + nsp_l
'''),
    ],
}

VACUOUS = {
    "subsample": ("returns the input unchanged", '''
def subsample(sentences, vocab):
    return sentences, collections.Counter()
'''),
    "get_centers_and_contexts": ("returns nothing", '''
def get_centers_and_contexts(corpus, max_window_size):
    return [], []
'''),
    "RandomGenerator": ("always draws 1", '''
def RandomGenerator(sampling_weights):
    return collections.namedtuple("Fixed", "draw")(lambda: 1)
'''),
    "get_negatives": ("no noise words", '''
def get_negatives(all_contexts, vocab, counter, K):
    return [[] for _ in all_contexts]
'''),
    "batchify": ("empty tensors", '''
def batchify(data):
    return tuple(torch.zeros(0, dtype=torch.long) for _ in range(4))
'''),
    "skip_gram": ("zeros", '''
def skip_gram(center, contexts_and_negatives, embed_v, embed_u):
    return torch.zeros(center.shape[0], 1, contexts_and_negatives.shape[1])
'''),
    "SigmoidBCELoss": ("zero loss", '''
def SigmoidBCELoss():
    return lambda inputs, target, mask=None: torch.zeros(inputs.shape[0])
'''),
    "get_max_freq_pair": ("a fixed pair", '''
def get_max_freq_pair(token_freqs):
    return ("a", "b")
'''),
    "merge_symbols": ("returns the input", '''
def merge_symbols(max_freq_pair, token_freqs, symbols):
    return token_freqs
'''),
    "segment_BPE": ("returns the words", '''
def segment_BPE(tokens, symbols):
    return list(tokens)
'''),
    "get_tokens_and_segments": ("returns the first sentence", '''
def get_tokens_and_segments(tokens_a, tokens_b=None):
    return tokens_a, [0] * len(tokens_a)
'''),
    "BERTEncoder": ("no layers", '''
def BERTEncoder(*args, **kwargs):
    return nn.Identity()
'''),
    "MaskLM": ("no layers", '''
def MaskLM(*args, **kwargs):
    return nn.Identity()
'''),
    "NextSentencePred": ("no layers", '''
def NextSentencePred(*args, **kwargs):
    return nn.Identity()
'''),
    "BERTModel": ("no layers", '''
def BERTModel(*args, **kwargs):
    return nn.Identity()
'''),
    "_get_next_sentence": ("always the true next sentence", '''
def _get_next_sentence(sentence, next_sentence, paragraphs):
    return sentence, next_sentence, True
'''),
    "_replace_mlm_tokens": ("changes nothing", '''
def _replace_mlm_tokens(tokens, candidate_pred_positions, num_mlm_preds, vocab):
    return list(tokens), []
'''),
    "_get_mlm_data_from_tokens": ("no predictions", '''
def _get_mlm_data_from_tokens(tokens, vocab):
    return vocab[tokens], [], []
'''),
    "_pad_bert_inputs": ("empty lists", '''
def _pad_bert_inputs(examples, max_len, vocab):
    return [], [], [], [], [], [], []
'''),
    "_get_batch_loss_bert": ("zero losses", '''
def _get_batch_loss_bert(net, loss, vocab_size, tokens_X, segments_X, valid_lens_x,
                         pred_positions_X, mlm_weights_X, mlm_Y, nsp_y):
    zero = torch.zeros(())
    return zero, zero, zero
'''),
}
