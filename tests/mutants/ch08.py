"""Realistic mistakes for ch08; each must lose points.

The statistical mistakes are caught with near certainty: an offset drawn from ``0..num_steps``
in ``seq_data_iter_random`` makes residue 0 of the first start come up with probability 1/2
instead of 1/3, over 1000 calls: ``stats.binomial_miss_rate(1000, 1/3, 1/2, 1e-7 / 3)`` is below
1e-7; an offset from ``0..num_steps - 1`` in ``seq_data_iter_sequential`` never draws one of
the four offsets, each expected 150 times in 600 calls.
"""

MUTANTS = {
    "read_time_machine": [
        ("forgets to strip the lines", '''
def read_time_machine(path=None):
    if path is None:
        path = course.time_machine_path()
    with open(path, encoding="utf-8") as f:
        lines = f.readlines()
    return [re.sub("[^A-Za-z]+", " ", line).lower() for line in lines]
'''),
        ("replaces every non-letter by its own space (no +)", '''
def read_time_machine(path=None):
    if path is None:
        path = course.time_machine_path()
    with open(path, encoding="utf-8") as f:
        lines = f.readlines()
    return [re.sub("[^A-Za-z]", " ", line).strip().lower() for line in lines]
'''),
    ],
    "tokenize": [
        ("splits words at single spaces (line.split(' '))", '''
def tokenize(lines, token="word"):
    if token == "word":
        return [line.split(" ") for line in lines]
    elif token == "char":
        return [list(line) for line in lines]
    else:
        print("ERROR: unknown token type: " + token)
'''),
        ("character tokens without the spaces", '''
def tokenize(lines, token="word"):
    if token == "word":
        return [line.split() for line in lines]
    elif token == "char":
        return [list(line.replace(" ", "")) for line in lines]
    else:
        print("ERROR: unknown token type: " + token)
'''),
    ],
    "count_corpus": [
        ("reads tokens[0] of an empty corpus", '''
def count_corpus(tokens):
    if isinstance(tokens[0], list):
        tokens = [token for line in tokens for token in line]
    return collections.Counter(tokens)
'''),
        ("counts each token once per line", '''
def count_corpus(tokens):
    if len(tokens) == 0 or isinstance(tokens[0], list):
        return collections.Counter(token for line in tokens for token in set(line))
    return collections.Counter(tokens)
'''),
    ],
    "Vocab": [
        ("sorts by ascending frequency", '''
class Vocab:
    def __init__(self, tokens=None, min_freq=0, reserved_tokens=None):
        tokens = tokens or []
        reserved_tokens = reserved_tokens or []
        counter = count_corpus(tokens)
        self._token_freqs = sorted(counter.items(), key=lambda x: x[1])
        self.idx_to_token = ["<unk>"] + reserved_tokens
        self.token_to_idx = {t: i for i, t in enumerate(self.idx_to_token)}
        for token, freq in self._token_freqs:
            if freq >= min_freq and token not in self.token_to_idx:
                self.idx_to_token.append(token)
                self.token_to_idx[token] = len(self.idx_to_token) - 1

    def __len__(self):
        return len(self.idx_to_token)

    def __getitem__(self, tokens):
        if not isinstance(tokens, (list, tuple)):
            return self.token_to_idx.get(tokens, self.unk)
        return [self.__getitem__(token) for token in tokens]

    def to_tokens(self, indices):
        if not isinstance(indices, (list, tuple)):
            return self.idx_to_token[indices]
        return [self.idx_to_token[index] for index in indices]

    @property
    def unk(self):
        return 0

    @property
    def token_freqs(self):
        return self._token_freqs
'''),
        ("adds reserved tokens of the corpus a second time", '''
class Vocab:
    def __init__(self, tokens=None, min_freq=0, reserved_tokens=None):
        tokens = tokens or []
        reserved_tokens = reserved_tokens or []
        counter = count_corpus(tokens)
        self._token_freqs = sorted(counter.items(), key=lambda x: x[1], reverse=True)
        self.idx_to_token = ["<unk>"] + reserved_tokens + [
            token for token, freq in self._token_freqs if freq >= min_freq]
        self.token_to_idx = {t: i for i, t in enumerate(self.idx_to_token)}

    def __len__(self):
        return len(self.idx_to_token)

    def __getitem__(self, tokens):
        if not isinstance(tokens, (list, tuple)):
            return self.token_to_idx.get(tokens, self.unk)
        return [self.__getitem__(token) for token in tokens]

    def to_tokens(self, indices):
        if not isinstance(indices, (list, tuple)):
            return self.idx_to_token[indices]
        return [self.idx_to_token[index] for index in indices]

    @property
    def unk(self):
        return 0

    @property
    def token_freqs(self):
        return self._token_freqs
'''),
    ],
    "seq_data_iter_random": [
        ("forgets to shuffle the subsequences", '''
def seq_data_iter_random(corpus, batch_size, num_steps):
    corpus = corpus[random.randint(0, num_steps - 1):]
    num_subseqs = (len(corpus) - 1) // num_steps
    initial_indices = list(range(0, num_subseqs * num_steps, num_steps))
    num_batches = num_subseqs // batch_size
    for i in range(0, batch_size * num_batches, batch_size):
        starts = initial_indices[i: i + batch_size]
        X = [corpus[j: j + num_steps] for j in starts]
        Y = [corpus[j + 1: j + 1 + num_steps] for j in starts]
        yield torch.tensor(X), torch.tensor(Y)
'''),
        ("draws the offset from 0..num_steps (the sequential sampler's range)", '''
def seq_data_iter_random(corpus, batch_size, num_steps):
    corpus = corpus[random.randint(0, num_steps):]
    num_subseqs = (len(corpus) - 1) // num_steps
    initial_indices = list(range(0, num_subseqs * num_steps, num_steps))
    random.shuffle(initial_indices)
    num_batches = num_subseqs // batch_size
    for i in range(0, batch_size * num_batches, batch_size):
        starts = initial_indices[i: i + batch_size]
        X = [corpus[j: j + num_steps] for j in starts]
        Y = [corpus[j + 1: j + 1 + num_steps] for j in starts]
        yield torch.tensor(X), torch.tensor(Y)
'''),
    ],
    "seq_data_iter_sequential": [
        ("draws the offset from 0..num_steps - 1", '''
def seq_data_iter_sequential(corpus, batch_size, num_steps):
    offset = random.randint(0, num_steps - 1)
    num_tokens = ((len(corpus) - offset - 1) // batch_size) * batch_size
    Xs = torch.tensor(corpus[offset: offset + num_tokens]).reshape(batch_size, -1)
    Ys = torch.tensor(corpus[offset + 1: offset + 1 + num_tokens]).reshape(batch_size, -1)
    num_batches = Xs.shape[1] // num_steps
    for i in range(0, num_steps * num_batches, num_steps):
        yield Xs[:, i: i + num_steps], Ys[:, i: i + num_steps]
'''),
        ("interleaves the rows (reshape(-1, batch_size).T)", '''
def seq_data_iter_sequential(corpus, batch_size, num_steps):
    offset = random.randint(0, num_steps)
    num_tokens = ((len(corpus) - offset - 1) // batch_size) * batch_size
    Xs = torch.tensor(corpus[offset: offset + num_tokens]).reshape(-1, batch_size).T
    Ys = torch.tensor(corpus[offset + 1: offset + 1 + num_tokens]).reshape(-1, batch_size).T
    num_batches = Xs.shape[1] // num_steps
    for i in range(0, num_steps * num_batches, num_steps):
        yield Xs[:, i: i + num_steps], Ys[:, i: i + num_steps]
'''),
    ],
    "get_params": [
        ("requires gradients before scaling: the weights are not leaves", '''
def get_params(vocab_size, num_hiddens, device):
    def normal(shape):
        return torch.randn(size=shape, device=device, requires_grad=True) * 0.01

    W_xh = normal((vocab_size, num_hiddens))
    W_hh = normal((num_hiddens, num_hiddens))
    b_h = torch.zeros(num_hiddens, device=device, requires_grad=True)
    W_hq = normal((num_hiddens, vocab_size))
    b_q = torch.zeros(vocab_size, device=device, requires_grad=True)
    return [W_xh, W_hh, b_h, W_hq, b_q]
'''),
        ("forgets the 0.01 scale", '''
def get_params(vocab_size, num_hiddens, device):
    def normal(shape):
        return torch.randn(size=shape, device=device)

    params = [normal((vocab_size, num_hiddens)), normal((num_hiddens, num_hiddens)),
              torch.zeros(num_hiddens, device=device), normal((num_hiddens, vocab_size)),
              torch.zeros(vocab_size, device=device)]
    for param in params:
        param.requires_grad_(True)
    return params
'''),
    ],
    "init_rnn_state": [
        ("returns the tensor, not a tuple", '''
def init_rnn_state(batch_size, num_hiddens, device):
    return torch.zeros((batch_size, num_hiddens), device=device)
'''),
        ("nn.RNN's layout (1, batch_size, num_hiddens)", '''
def init_rnn_state(batch_size, num_hiddens, device):
    return (torch.zeros((1, batch_size, num_hiddens), device=device),)
'''),
    ],
    "rnn": [
        ("reads each output from the previous state", '''
def rnn(inputs, state, params):
    W_xh, W_hh, b_h, W_hq, b_q = params
    H, = state
    outputs = []
    for X in inputs:
        outputs.append(torch.mm(H, W_hq) + b_q)
        H = torch.tanh(torch.mm(X, W_xh) + torch.mm(H, W_hh) + b_h)
    return torch.cat(outputs, dim=0), (H,)
'''),
        ("stacks the outputs into (num_steps, batch_size, vocab_size)", '''
def rnn(inputs, state, params):
    W_xh, W_hh, b_h, W_hq, b_q = params
    H, = state
    outputs = []
    for X in inputs:
        H = torch.tanh(torch.mm(X, W_xh) + torch.mm(H, W_hh) + b_h)
        outputs.append(torch.mm(H, W_hq) + b_q)
    return torch.stack(outputs), (H,)
'''),
    ],
    "RNNModelScratch": [
        ("one-hot of X without transposing (batch first)", '''
class RNNModelScratch:
    def __init__(self, vocab_size, num_hiddens, device, get_params, init_state, forward_fn):
        self.vocab_size, self.num_hiddens = vocab_size, num_hiddens
        self.params = get_params(vocab_size, num_hiddens, device)
        self.init_state, self.forward_fn = init_state, forward_fn

    def __call__(self, X, state):
        X = F.one_hot(X, self.vocab_size).type(torch.float32)
        return self.forward_fn(X, state, self.params)

    def begin_state(self, batch_size, device):
        return self.init_state(batch_size, self.num_hiddens, device)
'''),
        ("feeds int64 one-hot vectors (forgets the float conversion)", '''
class RNNModelScratch:
    def __init__(self, vocab_size, num_hiddens, device, get_params, init_state, forward_fn):
        self.vocab_size, self.num_hiddens = vocab_size, num_hiddens
        self.params = get_params(vocab_size, num_hiddens, device)
        self.init_state, self.forward_fn = init_state, forward_fn

    def __call__(self, X, state):
        return self.forward_fn(F.one_hot(X.T, self.vocab_size), state, self.params)

    def begin_state(self, batch_size, device):
        return self.init_state(batch_size, self.num_hiddens, device)
'''),
    ],
    "predict_ch8": [
        ("no warm-up: only the prefix's last character is fed", '''
def predict_ch8(prefix, num_preds, net, vocab, device):
    state = net.begin_state(batch_size=1, device=device)
    outputs = [vocab[c] for c in prefix]
    for _ in range(num_preds):
        y, state = net(torch.tensor([[outputs[-1]]], device=device), state)
        outputs.append(int(y.argmax(dim=1).reshape(1)))
    return "".join([vocab.idx_to_token[i] for i in outputs])
'''),
        ("returns only the predicted characters", '''
def predict_ch8(prefix, num_preds, net, vocab, device):
    state = net.begin_state(batch_size=1, device=device)
    outputs = [vocab[prefix[0]]]
    for y in prefix[1:]:
        _, state = net(torch.tensor([[outputs[-1]]], device=device), state)
        outputs.append(vocab[y])
    for _ in range(num_preds):
        y, state = net(torch.tensor([[outputs[-1]]], device=device), state)
        outputs.append(int(y.argmax(dim=1).reshape(1)))
    return "".join([vocab.idx_to_token[i] for i in outputs[len(prefix):]])
'''),
    ],
    "grad_clipping": [
        ("clips each parameter's gradient on its own", '''
def grad_clipping(net, theta):
    if isinstance(net, nn.Module):
        params = [p for p in net.parameters() if p.requires_grad]
    else:
        params = net.params
    for param in params:
        norm = torch.sqrt(torch.sum(param.grad ** 2))
        if norm > theta:
            param.grad[:] *= theta / norm
'''),
        ("always rescales to norm theta, also when the norm is smaller", '''
def grad_clipping(net, theta):
    if isinstance(net, nn.Module):
        params = [p for p in net.parameters() if p.requires_grad]
    else:
        params = net.params
    norm = torch.sqrt(sum(torch.sum(p.grad ** 2) for p in params))
    for param in params:
        param.grad[:] *= theta / norm
'''),
    ],
    "train_epoch_ch8": [
        ("never detaches the state carried over", '''
def train_epoch_ch8(net, train_iter, loss, updater, device, use_random_iter):
    state, timer = None, course.Timer()
    metric = course.Accumulator(2)
    for X, Y in train_iter:
        if state is None or use_random_iter:
            state = net.begin_state(batch_size=X.shape[0], device=device)
        y = Y.T.reshape(-1)
        X, y = X.to(device), y.to(device)
        y_hat, state = net(X, state)
        l = loss(y_hat, y.long()).mean()
        if isinstance(updater, torch.optim.Optimizer):
            updater.zero_grad()
            l.backward()
            grad_clipping(net, 1)
            updater.step()
        else:
            l.backward()
            grad_clipping(net, 1)
            updater(batch_size=1)
        metric.add(l * y.numel(), y.numel())
    return math.exp(metric[0] / metric[1]), metric[1] / timer.stop()
'''),
        ("batch-major labels (Y.reshape(-1))", '''
def train_epoch_ch8(net, train_iter, loss, updater, device, use_random_iter):
    state, timer = None, course.Timer()
    metric = course.Accumulator(2)
    for X, Y in train_iter:
        if state is None or use_random_iter:
            state = net.begin_state(batch_size=X.shape[0], device=device)
        else:
            if isinstance(net, nn.Module) and not isinstance(state, tuple):
                state.detach_()
            else:
                for s in state:
                    s.detach_()
        y = Y.reshape(-1)
        X, y = X.to(device), y.to(device)
        y_hat, state = net(X, state)
        l = loss(y_hat, y.long()).mean()
        if isinstance(updater, torch.optim.Optimizer):
            updater.zero_grad()
            l.backward()
            grad_clipping(net, 1)
            updater.step()
        else:
            l.backward()
            grad_clipping(net, 1)
            updater(batch_size=1)
        metric.add(l * y.numel(), y.numel())
    return math.exp(metric[0] / metric[1]), metric[1] / timer.stop()
'''),
    ],
}
