"""Realistic mistakes for ch14; each must lose points in its own exercise."""

MUTANTS = {
    "subsample": [
        ("counts the unknown tokens too", '''
def subsample(sentences, vocab):
    counter = collections.Counter(tk for line in sentences for tk in line)
    num_tokens = sum(counter.values())
    return ([[t for t in line if vocab[t] != vocab.unk
              and random.uniform(0, 1) < math.sqrt(1e-4 / counter[t] * num_tokens)]
             for line in sentences], counter)
'''),
        ("drops with the keep probability (keeps 1 - sqrt(t / f))", '''
def subsample(sentences, vocab):
    sentences = [[t for t in line if vocab[t] != vocab.unk] for line in sentences]
    counter = collections.Counter(tk for line in sentences for tk in line)
    num_tokens = sum(counter.values())
    return ([[t for t in line
              if random.uniform(0, 1) > math.sqrt(1e-4 / counter[t] * num_tokens)]
             for line in sentences], counter)
'''),
    ],
    "get_centers_and_contexts": [
        ("always uses the largest window", '''
def get_centers_and_contexts(corpus, max_window_size):
    centers, contexts = [], []
    for line in corpus:
        if len(line) < 2:
            continue
        centers += line
        for i in range(len(line)):
            w = max_window_size
            contexts.append(line[max(0, i - w):i] + line[i + 1:i + 1 + w])
    return centers, contexts
'''),
        ("keeps the centre among its contexts", '''
def get_centers_and_contexts(corpus, max_window_size):
    centers, contexts = [], []
    for line in corpus:
        if len(line) < 2:
            continue
        centers += line
        for i in range(len(line)):
            w = random.randint(1, max_window_size)
            contexts.append(line[max(0, i - w):min(len(line), i + 1 + w)])
    return centers, contexts
'''),
    ],
    "RandomGenerator": [
        ("draws 0-based indices", '''
class RandomGenerator:
    def __init__(self, sampling_weights):
        self.sampling_weights = sampling_weights

    def draw(self):
        return random.choices(range(len(self.sampling_weights)), self.sampling_weights)[0]
'''),
        ("ignores the weights", '''
class RandomGenerator:
    def __init__(self, sampling_weights):
        self.n = len(sampling_weights)

    def draw(self):
        return random.randint(1, self.n)
'''),
    ],
    "get_negatives": [
        ("weights proportional to the counts (no 0.75)", '''
def get_negatives(all_contexts, vocab, counter, K):
    weights = [counter[vocab.to_tokens(i)] for i in range(1, len(vocab))]
    generator, out = RandomGenerator(weights), []
    for contexts in all_contexts:
        negatives = []
        while len(negatives) < len(contexts) * K:
            neg = generator.draw()
            if neg not in contexts:
                negatives.append(neg)
        out.append(negatives)
    return out
'''),
        ("does not reject context words", '''
def get_negatives(all_contexts, vocab, counter, K):
    weights = [counter[vocab.to_tokens(i)] ** 0.75 for i in range(1, len(vocab))]
    generator = RandomGenerator(weights)
    return [[generator.draw() for _ in range(len(contexts) * K)] for contexts in all_contexts]
'''),
    ],
    "batchify": [
        ("labels mark the noise words too", '''
def batchify(data):
    max_len = max(len(c) + len(n) for _, c, n in data)
    centers, cn, masks, labels = [], [], [], []
    for center, context, negative in data:
        cur = len(context) + len(negative)
        centers.append(center)
        cn.append(context + negative + [0] * (max_len - cur))
        masks.append([1] * cur + [0] * (max_len - cur))
        labels.append([1] * cur + [0] * (max_len - cur))
    return (torch.tensor(centers).reshape(-1, 1), torch.tensor(cn), torch.tensor(masks),
            torch.tensor(labels))
'''),
        ("centers of shape (B,)", '''
def batchify(data):
    max_len = max(len(c) + len(n) for _, c, n in data)
    centers, cn, masks, labels = [], [], [], []
    for center, context, negative in data:
        cur = len(context) + len(negative)
        centers.append(center)
        cn.append(context + negative + [0] * (max_len - cur))
        masks.append([1] * cur + [0] * (max_len - cur))
        labels.append([1] * len(context) + [0] * (max_len - len(context)))
    return (torch.tensor(centers), torch.tensor(cn), torch.tensor(masks), torch.tensor(labels))
'''),
    ],
    "skip_gram": [
        ("swaps the two embeddings", '''
def skip_gram(center, contexts_and_negatives, embed_v, embed_u):
    v = embed_u(center)
    u = embed_v(contexts_and_negatives)
    return torch.bmm(v, u.permute(0, 2, 1))
'''),
        ("multiplies in the other order: (B, L, 1)", '''
def skip_gram(center, contexts_and_negatives, embed_v, embed_u):
    v = embed_v(center)
    u = embed_u(contexts_and_negatives)
    return torch.bmm(u, v.permute(0, 2, 1))
'''),
    ],
    "SigmoidBCELoss": [
        ("averages over the unmasked entries only", '''
class SigmoidBCELoss(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, inputs, target, mask=None):
        out = F.binary_cross_entropy_with_logits(inputs, target, weight=mask, reduction="none")
        if mask is None:
            return out.mean(dim=1)
        return out.sum(dim=1) / mask.sum(dim=1)
'''),
        ("ignores the mask", '''
class SigmoidBCELoss(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, inputs, target, mask=None):
        out = F.binary_cross_entropy_with_logits(inputs, target, reduction="none")
        return out.mean(dim=1)
'''),
    ],
    "get_max_freq_pair": [
        ("counts each pair once, not by the token's frequency", '''
def get_max_freq_pair(token_freqs):
    pairs = collections.defaultdict(int)
    for token in token_freqs:
        symbols = token.split()
        for i in range(len(symbols) - 1):
            pairs[symbols[i], symbols[i + 1]] += 1
    return max(pairs, key=pairs.get)
'''),
        ("misses the last pair of each token", '''
def get_max_freq_pair(token_freqs):
    pairs = collections.defaultdict(int)
    for token, freq in token_freqs.items():
        symbols = token.split()
        for i in range(len(symbols) - 2):
            pairs[symbols[i], symbols[i + 1]] += freq
    return max(pairs, key=pairs.get)
'''),
    ],
    "merge_symbols": [
        ("forgets to add the new symbol", '''
def merge_symbols(max_freq_pair, token_freqs, symbols):
    return {token.replace(" ".join(max_freq_pair), "".join(max_freq_pair)): freq
            for token, freq in token_freqs.items()}
'''),
        ("merges only the first occurrence in each token", '''
def merge_symbols(max_freq_pair, token_freqs, symbols):
    symbols.append("".join(max_freq_pair))
    return {token.replace(" ".join(max_freq_pair), "".join(max_freq_pair), 1): freq
            for token, freq in token_freqs.items()}
'''),
    ],
    "segment_BPE": [
        ("shortest match first", '''
def segment_BPE(tokens, symbols):
    outputs = []
    for token in tokens:
        start, end, pieces = 0, 1, []
        while start < len(token) and end <= len(token):
            if token[start:end] in symbols:
                pieces.append(token[start:end])
                start, end = end, end + 1
            else:
                end += 1
        if start < len(token):
            pieces.append("[UNK]")
        outputs.append(" ".join(pieces))
    return outputs
'''),
        ("skips an unknown character and goes on", '''
def segment_BPE(tokens, symbols):
    outputs = []
    for token in tokens:
        start, pieces = 0, []
        while start < len(token):
            end = len(token)
            while end > start and token[start:end] not in symbols:
                end -= 1
            if end == start:
                start += 1
                continue
            pieces.append(token[start:end])
            start = end
        outputs.append(" ".join(pieces))
    return outputs
'''),
    ],
    "get_tokens_and_segments": [
        ("the second <sep> gets segment 0", '''
def get_tokens_and_segments(tokens_a, tokens_b=None):
    tokens = ["<cls>"] + tokens_a + ["<sep>"]
    segments = [0] * (len(tokens_a) + 2)
    if tokens_b is not None:
        tokens += tokens_b + ["<sep>"]
        segments += [1] * len(tokens_b) + [0]
    return tokens, segments
'''),
        ("no <sep> after the second sentence", '''
def get_tokens_and_segments(tokens_a, tokens_b=None):
    tokens = ["<cls>"] + tokens_a + ["<sep>"]
    segments = [0] * (len(tokens_a) + 2)
    if tokens_b is not None:
        tokens += tokens_b
        segments += [1] * len(tokens_b)
    return tokens, segments
'''),
    ],
    "BERTEncoder": [
        ("the book's pos_embedding.data (never trains)", '''
class BERTEncoder(nn.Module):
    def __init__(self, vocab_size, num_hiddens, norm_shape, ffn_num_input, ffn_num_hiddens,
                 num_heads, num_layers, dropout, max_len=1000, key_size=768, query_size=768,
                 value_size=768, **kwargs):
        super().__init__(**kwargs)
        self.token_embedding = nn.Embedding(vocab_size, num_hiddens)
        self.segment_embedding = nn.Embedding(2, num_hiddens)
        self.blks = nn.Sequential()
        for i in range(num_layers):
            self.blks.add_module(f"{i}", EncoderBlock(
                key_size, query_size, value_size, num_hiddens, norm_shape, ffn_num_input,
                ffn_num_hiddens, num_heads, dropout, True))
        self.pos_embedding = nn.Parameter(torch.randn(1, max_len, num_hiddens))

    def forward(self, tokens, segments, valid_lens):
        X = self.token_embedding(tokens) + self.segment_embedding(segments)
        X = X + self.pos_embedding.data[:, :X.shape[1], :]
        for blk in self.blks:
            X = blk(X, valid_lens)
        return X
'''),
        ("forgets the segment embedding in forward", '''
class BERTEncoder(nn.Module):
    def __init__(self, vocab_size, num_hiddens, norm_shape, ffn_num_input, ffn_num_hiddens,
                 num_heads, num_layers, dropout, max_len=1000, key_size=768, query_size=768,
                 value_size=768, **kwargs):
        super().__init__(**kwargs)
        self.token_embedding = nn.Embedding(vocab_size, num_hiddens)
        self.segment_embedding = nn.Embedding(2, num_hiddens)
        self.blks = nn.Sequential()
        for i in range(num_layers):
            self.blks.add_module(f"{i}", EncoderBlock(
                key_size, query_size, value_size, num_hiddens, norm_shape, ffn_num_input,
                ffn_num_hiddens, num_heads, dropout, True))
        self.pos_embedding = nn.Parameter(torch.randn(1, max_len, num_hiddens))

    def forward(self, tokens, segments, valid_lens):
        X = self.token_embedding(tokens) + self.pos_embedding[:, :tokens.shape[1], :]
        for blk in self.blks:
            X = blk(X, valid_lens)
        return X
'''),
    ],
    "MaskLM": [
        ("gathers the first example's positions in every example", '''
class MaskLM(nn.Module):
    def __init__(self, vocab_size, num_hiddens, num_inputs=768, **kwargs):
        super().__init__(**kwargs)
        self.mlp = nn.Sequential(nn.Linear(num_inputs, num_hiddens), nn.ReLU(),
                                 nn.LayerNorm(num_hiddens), nn.Linear(num_hiddens, vocab_size))

    def forward(self, X, pred_positions):
        return self.mlp(X[:, pred_positions[0]])
'''),
        ("LayerNorm before ReLU", '''
class MaskLM(nn.Module):
    def __init__(self, vocab_size, num_hiddens, num_inputs=768, **kwargs):
        super().__init__(**kwargs)
        self.mlp = nn.Sequential(nn.Linear(num_inputs, num_hiddens), nn.LayerNorm(num_hiddens),
                                 nn.ReLU(), nn.Linear(num_hiddens, vocab_size))

    def forward(self, X, pred_positions):
        batch_idx = torch.arange(X.shape[0], device=X.device)
        batch_idx = torch.repeat_interleave(batch_idx, pred_positions.shape[1])
        masked_X = X[batch_idx, pred_positions.reshape(-1)]
        return self.mlp(masked_X.reshape(X.shape[0], pred_positions.shape[1], -1))
'''),
    ],
    "NextSentencePred": [
        ("a linear layer without bias", '''
class NextSentencePred(nn.Module):
    def __init__(self, num_inputs, **kwargs):
        super().__init__(**kwargs)
        self.output = nn.Linear(num_inputs, 2, bias=False)

    def forward(self, X):
        return self.output(X)
'''),
        ("returns probabilities (softmax)", '''
class NextSentencePred(nn.Module):
    def __init__(self, num_inputs, **kwargs):
        super().__init__(**kwargs)
        self.output = nn.Linear(num_inputs, 2)

    def forward(self, X):
        return torch.softmax(self.output(X), dim=-1)
'''),
    ],
    "BERTModel": [
        ("predicts the next sentence from the last position", '''
class BERTModel(nn.Module):
    def __init__(self, vocab_size, num_hiddens, norm_shape, ffn_num_input, ffn_num_hiddens,
                 num_heads, num_layers, dropout, max_len=1000, key_size=768, query_size=768,
                 value_size=768, hid_in_features=768, mlm_in_features=768,
                 nsp_in_features=768):
        super().__init__()
        self.encoder = BERTEncoder(vocab_size, num_hiddens, norm_shape, ffn_num_input,
                                   ffn_num_hiddens, num_heads, num_layers, dropout,
                                   max_len=max_len, key_size=key_size, query_size=query_size,
                                   value_size=value_size)
        self.hidden = nn.Sequential(nn.Linear(hid_in_features, num_hiddens), nn.Tanh())
        self.mlm = MaskLM(vocab_size, num_hiddens, mlm_in_features)
        self.nsp = NextSentencePred(nsp_in_features)

    def forward(self, tokens, segments, valid_lens=None, pred_positions=None):
        encoded_X = self.encoder(tokens, segments, valid_lens)
        mlm_Y_hat = None if pred_positions is None else self.mlm(encoded_X, pred_positions)
        return encoded_X, mlm_Y_hat, self.nsp(self.hidden(encoded_X[:, -1, :]))
'''),
        ("ReLU instead of Tanh in hidden", '''
class BERTModel(nn.Module):
    def __init__(self, vocab_size, num_hiddens, norm_shape, ffn_num_input, ffn_num_hiddens,
                 num_heads, num_layers, dropout, max_len=1000, key_size=768, query_size=768,
                 value_size=768, hid_in_features=768, mlm_in_features=768,
                 nsp_in_features=768):
        super().__init__()
        self.encoder = BERTEncoder(vocab_size, num_hiddens, norm_shape, ffn_num_input,
                                   ffn_num_hiddens, num_heads, num_layers, dropout,
                                   max_len=max_len, key_size=key_size, query_size=query_size,
                                   value_size=value_size)
        self.hidden = nn.Sequential(nn.Linear(hid_in_features, num_hiddens), nn.ReLU())
        self.mlm = MaskLM(vocab_size, num_hiddens, mlm_in_features)
        self.nsp = NextSentencePred(nsp_in_features)

    def forward(self, tokens, segments, valid_lens=None, pred_positions=None):
        encoded_X = self.encoder(tokens, segments, valid_lens)
        mlm_Y_hat = None if pred_positions is None else self.mlm(encoded_X, pred_positions)
        return encoded_X, mlm_Y_hat, self.nsp(self.hidden(encoded_X[:, 0, :]))
'''),
    ],
    "_get_next_sentence": [
        ("draws the random sentence from all sentences at once", '''
def _get_next_sentence(sentence, next_sentence, paragraphs):
    if random.random() < 0.5:
        return sentence, next_sentence, True
    return sentence, random.choice([s for p in paragraphs for s in p]), False
'''),
        ("labels the random pair as the next sentence", '''
def _get_next_sentence(sentence, next_sentence, paragraphs):
    if random.random() < 0.5:
        return sentence, next_sentence, False
    return sentence, random.choice(random.choice(paragraphs)), True
'''),
    ],
    "_replace_mlm_tokens": [
        ("never keeps the token: 80% <mask>, 20% random", '''
def _replace_mlm_tokens(tokens, candidate_pred_positions, num_mlm_preds, vocab):
    mlm_input_tokens = list(tokens)
    pairs = []
    random.shuffle(candidate_pred_positions)
    for p in candidate_pred_positions[:num_mlm_preds]:
        if random.random() < 0.8:
            mlm_input_tokens[p] = "<mask>"
        else:
            mlm_input_tokens[p] = random.choice(vocab.idx_to_token)
        pairs.append((p, tokens[p]))
    return mlm_input_tokens, pairs
'''),
        ("takes the first candidates without shuffling", '''
def _replace_mlm_tokens(tokens, candidate_pred_positions, num_mlm_preds, vocab):
    mlm_input_tokens = list(tokens)
    pairs = []
    for p in candidate_pred_positions[:num_mlm_preds]:
        if random.random() < 0.8:
            mlm_input_tokens[p] = "<mask>"
        elif random.random() < 0.5:
            mlm_input_tokens[p] = random.choice(vocab.idx_to_token)
        pairs.append((p, tokens[p]))
    return mlm_input_tokens, pairs
'''),
    ],
    "_get_mlm_data_from_tokens": [
        ("does not sort the predictions by position", '''
def _get_mlm_data_from_tokens(tokens, vocab):
    candidates = [i for i, t in enumerate(tokens) if t not in ["<cls>", "<sep>"]]
    num_mlm_preds = max(1, round(len(tokens) * 0.15))
    mlm_input_tokens, pairs = _replace_mlm_tokens(tokens, candidates, num_mlm_preds, vocab)
    return vocab[mlm_input_tokens], [p for p, _ in pairs], vocab[[t for _, t in pairs]]
'''),
        ("no minimum of one prediction", '''
def _get_mlm_data_from_tokens(tokens, vocab):
    candidates = [i for i, t in enumerate(tokens) if t not in ["<cls>", "<sep>"]]
    num_mlm_preds = round(len(tokens) * 0.15)
    mlm_input_tokens, pairs = _replace_mlm_tokens(tokens, candidates, num_mlm_preds, vocab)
    pairs = sorted(pairs, key=lambda x: x[0])
    return vocab[mlm_input_tokens], [p for p, _ in pairs], vocab[[t for _, t in pairs]]
'''),
    ],
    "_pad_bert_inputs": [
        ("pads the token ids with 0", '''
def _pad_bert_inputs(examples, max_len, vocab):
    n = round(max_len * 0.15)
    out = [[], [], [], [], [], [], []]
    for token_ids, positions, labels, segments, is_next in examples:
        out[0].append(torch.tensor(token_ids + [0] * (max_len - len(token_ids))))
        out[1].append(torch.tensor(segments + [0] * (max_len - len(segments))))
        out[2].append(torch.tensor(len(token_ids), dtype=torch.float32))
        out[3].append(torch.tensor(positions + [0] * (n - len(positions))))
        out[4].append(torch.tensor([1.0] * len(labels) + [0.0] * (n - len(labels))))
        out[5].append(torch.tensor(labels + [0] * (n - len(labels))))
        out[6].append(torch.tensor(int(is_next)))
    return tuple(out)
'''),
        ("valid lengths as int64", '''
def _pad_bert_inputs(examples, max_len, vocab):
    n = round(max_len * 0.15)
    out = [[], [], [], [], [], [], []]
    for token_ids, positions, labels, segments, is_next in examples:
        out[0].append(torch.tensor(token_ids + [vocab["<pad>"]] * (max_len - len(token_ids))))
        out[1].append(torch.tensor(segments + [0] * (max_len - len(segments))))
        out[2].append(torch.tensor(len(token_ids)))
        out[3].append(torch.tensor(positions + [0] * (n - len(positions))))
        out[4].append(torch.tensor([1.0] * len(labels) + [0.0] * (n - len(labels))))
        out[5].append(torch.tensor(labels + [0] * (n - len(labels))))
        out[6].append(torch.tensor(int(is_next)))
    return tuple(out)
'''),
    ],
    "_get_batch_loss_bert": [
        ("averages the weighted MLM loss over every slot", '''
def _get_batch_loss_bert(net, loss, vocab_size, tokens_X, segments_X, valid_lens_x,
                         pred_positions_X, mlm_weights_X, mlm_Y, nsp_y):
    _, mlm_Y_hat, nsp_Y_hat = net(tokens_X, segments_X, valid_lens_x.reshape(-1),
                                  pred_positions_X)
    mlm_l = (loss(mlm_Y_hat.reshape(-1, vocab_size), mlm_Y.reshape(-1))
             * mlm_weights_X.reshape(-1, 1)).mean()
    nsp_l = loss(nsp_Y_hat, nsp_y)
    return mlm_l, nsp_l, mlm_l + nsp_l
'''),
        ("passes valid_lens_x without reshaping", '''
def _get_batch_loss_bert(net, loss, vocab_size, tokens_X, segments_X, valid_lens_x,
                         pred_positions_X, mlm_weights_X, mlm_Y, nsp_y):
    _, mlm_Y_hat, nsp_Y_hat = net(tokens_X, segments_X, valid_lens_x, pred_positions_X)
    mlm_l = (loss(mlm_Y_hat.reshape(-1, vocab_size), mlm_Y.reshape(-1))
             * mlm_weights_X.reshape(-1, 1))
    mlm_l = mlm_l.sum() / (mlm_weights_X.sum() + 1e-8)
    nsp_l = loss(nsp_Y_hat, nsp_y)
    return mlm_l, nsp_l, mlm_l + nsp_l
'''),
    ],
}
