"""Correct answers in other styles for ch08 (each must earn full marks), and vacuous ones (each
must earn nothing). Set 0 is the book's own code (d2l-zh 2.0, PyTorch), adapted only where the
docstrings state a deliberate difference (the reader's ``path``) and with ``d2l.`` helpers taken
from ``course``; set 1 uses other styles: other random number generators (torch, numpy), other
tie orders in the vocabulary, vectorized steps, detached copies of the state, new gradient
tensors instead of in-place scaling, a ``ValueError`` for an unknown token type."""

BOOK = {
    "read_time_machine": '''
def read_time_machine(path=None):
    if path is None:
        path = course.time_machine_path()
    with open(path, 'r') as f:
        lines = f.readlines()
    return [re.sub('[^A-Za-z]+', ' ', line).strip().lower() for line in lines]
''',
    "tokenize": '''
def tokenize(lines, token='word'):
    if token == 'word':
        return [line.split() for line in lines]
    elif token == 'char':
        return [list(line) for line in lines]
    else:
        print('错误：未知词元类型：' + token)
''',
    "count_corpus": '''
def count_corpus(tokens):
    # 这里的tokens是1D列表或2D列表
    if len(tokens) == 0 or isinstance(tokens[0], list):
        tokens = [token for line in tokens for token in line]
    return collections.Counter(tokens)
''',
    "Vocab": '''
class Vocab:
    """文本词表"""
    def __init__(self, tokens=None, min_freq=0, reserved_tokens=None):
        if tokens is None:
            tokens = []
        if reserved_tokens is None:
            reserved_tokens = []
        counter = count_corpus(tokens)
        self._token_freqs = sorted(counter.items(), key=lambda x: x[1],
                                   reverse=True)
        self.idx_to_token = ['<unk>'] + reserved_tokens
        self.token_to_idx = {token: idx
                             for idx, token in enumerate(self.idx_to_token)}
        for token, freq in self._token_freqs:
            if freq < min_freq:
                break
            if token not in self.token_to_idx:
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
''',
    "seq_data_iter_random": '''
def seq_data_iter_random(corpus, batch_size, num_steps):
    corpus = corpus[random.randint(0, num_steps - 1):]
    num_subseqs = (len(corpus) - 1) // num_steps
    initial_indices = list(range(0, num_subseqs * num_steps, num_steps))
    random.shuffle(initial_indices)

    def data(pos):
        return corpus[pos: pos + num_steps]

    num_batches = num_subseqs // batch_size
    for i in range(0, batch_size * num_batches, batch_size):
        initial_indices_per_batch = initial_indices[i: i + batch_size]
        X = [data(j) for j in initial_indices_per_batch]
        Y = [data(j + 1) for j in initial_indices_per_batch]
        yield torch.tensor(X), torch.tensor(Y)
''',
    "seq_data_iter_sequential": '''
def seq_data_iter_sequential(corpus, batch_size, num_steps):
    offset = random.randint(0, num_steps)
    num_tokens = ((len(corpus) - offset - 1) // batch_size) * batch_size
    Xs = torch.tensor(corpus[offset: offset + num_tokens])
    Ys = torch.tensor(corpus[offset + 1: offset + 1 + num_tokens])
    Xs, Ys = Xs.reshape(batch_size, -1), Ys.reshape(batch_size, -1)
    num_batches = Xs.shape[1] // num_steps
    for i in range(0, num_steps * num_batches, num_steps):
        X = Xs[:, i: i + num_steps]
        Y = Ys[:, i: i + num_steps]
        yield X, Y
''',
    "get_params": '''
def get_params(vocab_size, num_hiddens, device):
    num_inputs = num_outputs = vocab_size

    def normal(shape):
        return torch.randn(size=shape, device=device) * 0.01

    # 隐藏层参数
    W_xh = normal((num_inputs, num_hiddens))
    W_hh = normal((num_hiddens, num_hiddens))
    b_h = torch.zeros(num_hiddens, device=device)
    # 输出层参数
    W_hq = normal((num_hiddens, num_outputs))
    b_q = torch.zeros(num_outputs, device=device)
    # 附加梯度
    params = [W_xh, W_hh, b_h, W_hq, b_q]
    for param in params:
        param.requires_grad_(True)
    return params
''',
    "init_rnn_state": '''
def init_rnn_state(batch_size, num_hiddens, device):
    return (torch.zeros((batch_size, num_hiddens), device=device), )
''',
    "rnn": '''
def rnn(inputs, state, params):
    # inputs的形状：(时间步数量，批量大小，词表大小)
    W_xh, W_hh, b_h, W_hq, b_q = params
    H, = state
    outputs = []
    # X的形状：(批量大小，词表大小)
    for X in inputs:
        H = torch.tanh(torch.mm(X, W_xh) + torch.mm(H, W_hh) + b_h)
        Y = torch.mm(H, W_hq) + b_q
        outputs.append(Y)
    return torch.cat(outputs, dim=0), (H,)
''',
    "RNNModelScratch": '''
class RNNModelScratch: #@save
    """从零开始实现的循环神经网络模型"""
    def __init__(self, vocab_size, num_hiddens, device,
                 get_params, init_state, forward_fn):
        self.vocab_size, self.num_hiddens = vocab_size, num_hiddens
        self.params = get_params(vocab_size, num_hiddens, device)
        self.init_state, self.forward_fn = init_state, forward_fn

    def __call__(self, X, state):
        X = F.one_hot(X.T, self.vocab_size).type(torch.float32)
        return self.forward_fn(X, state, self.params)

    def begin_state(self, batch_size, device):
        return self.init_state(batch_size, self.num_hiddens, device)
''',
    "predict_ch8": '''
def predict_ch8(prefix, num_preds, net, vocab, device):  #@save
    """在prefix后面生成新字符"""
    state = net.begin_state(batch_size=1, device=device)
    outputs = [vocab[prefix[0]]]
    get_input = lambda: torch.tensor([outputs[-1]], device=device).reshape((1, 1))
    for y in prefix[1:]:  # 预热期
        _, state = net(get_input(), state)
        outputs.append(vocab[y])
    for _ in range(num_preds):  # 预测num_preds步
        y, state = net(get_input(), state)
        outputs.append(int(y.argmax(dim=1).reshape(1)))
    return ''.join([vocab.idx_to_token[i] for i in outputs])
''',
    "grad_clipping": '''
def grad_clipping(net, theta):  #@save
    """裁剪梯度"""
    if isinstance(net, nn.Module):
        params = [p for p in net.parameters() if p.requires_grad]
    else:
        params = net.params
    norm = torch.sqrt(sum(torch.sum((p.grad ** 2)) for p in params))
    if norm > theta:
        for param in params:
            param.grad[:] *= theta / norm
''',
    "train_epoch_ch8": '''
def train_epoch_ch8(net, train_iter, loss, updater, device, use_random_iter):
    """训练网络一个迭代周期（定义见第8章）"""
    state, timer = None, course.Timer()
    metric = course.Accumulator(2)  # 训练损失之和,词元数量
    for X, Y in train_iter:
        if state is None or use_random_iter:
            # 在第一次迭代或使用随机抽样时初始化state
            state = net.begin_state(batch_size=X.shape[0], device=device)
        else:
            if isinstance(net, nn.Module) and not isinstance(state, tuple):
                # state对于nn.GRU是个张量
                state.detach_()
            else:
                # state对于nn.LSTM或对于我们从零开始实现的模型是个张量
                for s in state:
                    s.detach_()
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
            # 因为已经调用了mean函数
            updater(batch_size=1)
        metric.add(l * y.numel(), y.numel())
    return math.exp(metric[0] / metric[1]), metric[1] / timer.stop()
''',
}

OTHER = {
    "read_time_machine": '''
def read_time_machine(path=None):
    if path is None:
        path = course.time_machine_path()
    text = Path(path).read_text(encoding="utf-8")
    return [" ".join(re.findall("[a-z]+", line.lower())) for line in text.splitlines()]
''',
    "tokenize": '''
def tokenize(lines, token="word"):
    splitters = {"word": lambda line: re.findall(r"\\S+", line), "char": list}
    if token not in splitters:
        raise ValueError(f"unknown token type {token!r}")
    return [splitters[token](line) for line in lines]
''',
    "count_corpus": '''
def count_corpus(tokens):
    counts = {}
    lines = tokens if tokens and isinstance(tokens[0], list) else [tokens]
    for line in lines:
        for token in line:
            counts[token] = counts.get(token, 0) + 1
    return counts
''',
    "Vocab": '''
class Vocab:
    def __init__(self, tokens=None, min_freq=0, reserved_tokens=None):
        counts = collections.Counter()
        for item in tokens or []:
            counts.update(item if isinstance(item, list) else [item])
        # ties in alphabetical order, unlike the book's order of first occurrence
        self.freqs = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))
        self.idx_to_token = ["<unk>", *(reserved_tokens or [])]
        seen = set(self.idx_to_token)
        self.idx_to_token += [t for t, n in self.freqs if n >= min_freq and t not in seen]
        self.lookup = {t: i for i, t in enumerate(self.idx_to_token)}

    def __len__(self):
        return len(self.lookup)

    def __getitem__(self, tokens):
        if isinstance(tokens, (list, tuple)):
            return [self[t] for t in tokens]
        return self.lookup.get(tokens, 0)

    def to_tokens(self, indices):
        if isinstance(indices, (list, tuple)):
            return [self.to_tokens(i) for i in indices]
        return self.idx_to_token[int(indices)]

    @property
    def unk(self):
        return self.lookup["<unk>"]

    @property
    def token_freqs(self):
        return list(self.freqs)
''',
    "seq_data_iter_random": '''
def seq_data_iter_random(corpus, batch_size, num_steps):
    data = torch.tensor(corpus)
    start = int(torch.randint(0, num_steps, ()))
    count = (len(data) - start - 1) // num_steps
    X = data[start:start + count * num_steps].reshape(count, num_steps)
    Y = data[start + 1:start + 1 + count * num_steps].reshape(count, num_steps)
    order = torch.randperm(count)[:count // batch_size * batch_size]
    for rows in order.reshape(-1, batch_size):
        yield X[rows], Y[rows]
''',
    "seq_data_iter_sequential": '''
def seq_data_iter_sequential(corpus, batch_size, num_steps):
    import numpy as np
    offset = int(np.random.randint(0, num_steps + 1))
    width = (len(corpus) - offset - 1) // batch_size
    rows = np.array(corpus[offset:offset + width * batch_size + 1])
    Xs = torch.from_numpy(rows[:-1].reshape(batch_size, width)).long()
    Ys = torch.from_numpy(rows[1:].reshape(batch_size, width)).long()
    for j in range(width // num_steps):
        columns = slice(j * num_steps, (j + 1) * num_steps)
        yield Xs[:, columns], Ys[:, columns]
''',
    "get_params": '''
def get_params(vocab_size, num_hiddens, device):
    def weight(rows, cols):
        return nn.Parameter(torch.normal(0.0, 0.01, (rows, cols), device=device))

    def bias(size):
        return nn.Parameter(torch.zeros(size, device=device, dtype=torch.float32))

    return [weight(vocab_size, num_hiddens), weight(num_hiddens, num_hiddens),
            bias(num_hiddens), weight(num_hiddens, vocab_size), bias(vocab_size)]
''',
    "init_rnn_state": '''
def init_rnn_state(batch_size, num_hiddens, device):
    H = torch.zeros(batch_size, num_hiddens, dtype=torch.float32).to(device)
    return (H,)
''',
    "rnn": '''
def rnn(inputs, state, params):
    W_xh, W_hh, b_h, W_hq, b_q = params
    (H,) = state
    projected = inputs @ W_xh + b_h
    hidden = []
    for t in range(inputs.shape[0]):
        H = torch.tanh(projected[t] + H @ W_hh)
        hidden.append(H)
    outputs = torch.stack(hidden) @ W_hq + b_q
    return outputs.reshape(-1, W_hq.shape[1]), (H,)
''',
    "RNNModelScratch": '''
class RNNModelScratch:
    def __init__(self, vocab_size, num_hiddens, device, get_params, init_state, forward_fn):
        self.vocab_size = vocab_size
        self.num_hiddens = num_hiddens
        self.params = get_params(vocab_size, num_hiddens, device)
        self._init_state = init_state
        self._forward = forward_fn

    def __call__(self, X, state):
        inputs = torch.eye(self.vocab_size, device=X.device)[X.transpose(0, 1)]
        return self._forward(inputs, state, self.params)

    def begin_state(self, batch_size, device):
        return self._init_state(batch_size, self.num_hiddens, device)
''',
    "predict_ch8": '''
def predict_ch8(prefix, num_preds, net, vocab, device):
    with torch.no_grad():
        state = net.begin_state(batch_size=1, device=device)
        indices = vocab[list(prefix)]
        for k in range(len(prefix) - 1 + num_preds):
            X = torch.full((1, 1), indices[k], dtype=torch.long, device=device)
            y, state = net(X, state)
            if k + 1 >= len(prefix):
                indices.append(int(torch.argmax(y[0])))
        return "".join(vocab.to_tokens(indices))
''',
    "grad_clipping": '''
def grad_clipping(net, theta):
    params = ([p for p in net.parameters() if p.requires_grad]
              if isinstance(net, nn.Module) else net.params)
    grads = [p.grad for p in params if p.grad is not None]
    norm = torch.linalg.vector_norm(torch.cat([g.flatten() for g in grads]))
    if norm > theta:
        for p in params:
            if p.grad is not None:
                p.grad = p.grad * (theta / norm)
''',
    "train_epoch_ch8": '''
def train_epoch_ch8(net, train_iter, loss, updater, device, use_random_iter):
    import time
    start = time.perf_counter()
    state, total, tokens = None, 0.0, 0
    optimizer = updater if isinstance(updater, torch.optim.Optimizer) else None
    for X, Y in train_iter:
        if state is None or use_random_iter:
            state = net.begin_state(batch_size=X.shape[0], device=device)
        elif isinstance(state, tuple):
            state = tuple(s.detach() for s in state)
        else:
            state = state.detach()
        X, y = X.to(device), Y.transpose(0, 1).reshape(-1).to(device)
        if optimizer is not None:
            optimizer.zero_grad()
        y_hat, state = net(X, state)
        l = loss(y_hat, y).mean()
        l.backward()
        grad_clipping(net, 1)
        if optimizer is not None:
            optimizer.step()
        else:
            updater(1)
        total += l.item() * y.numel()
        tokens += y.numel()
    return math.exp(total / tokens), tokens / (time.perf_counter() - start)
''',
}

VARIANTS = {name: [("the book's code", BOOK[name]), ("another style", OTHER[name])]
            for name in BOOK}

VACUOUS = {
    "read_time_machine": ("returns no lines", '''
def read_time_machine(path=None):
    return []
'''),
    "tokenize": ("returns no tokens", '''
def tokenize(lines, token="word"):
    return []
'''),
    "count_corpus": ("counts nothing", '''
def count_corpus(tokens):
    return collections.Counter()
'''),
    "Vocab": ("builds nothing", '''
def Vocab(tokens=None, min_freq=0, reserved_tokens=None):
    return None
'''),
    "seq_data_iter_random": ("yields nothing", '''
def seq_data_iter_random(corpus, batch_size, num_steps):
    return iter([])
'''),
    "seq_data_iter_sequential": ("yields nothing", '''
def seq_data_iter_sequential(corpus, batch_size, num_steps):
    return iter([])
'''),
    "get_params": ("makes no parameters", '''
def get_params(vocab_size, num_hiddens, device):
    return []
'''),
    "init_rnn_state": ("returns no state", '''
def init_rnn_state(batch_size, num_hiddens, device):
    return None
'''),
    "rnn": ("returns its inputs", '''
def rnn(inputs, state, params):
    return inputs.reshape(-1, inputs.shape[-1]), state
'''),
    "RNNModelScratch": ("builds nothing", '''
def RNNModelScratch(vocab_size, num_hiddens, device, get_params, init_state, forward_fn):
    return None
'''),
    "predict_ch8": ("returns the prefix", '''
def predict_ch8(prefix, num_preds, net, vocab, device):
    return prefix
'''),
    "grad_clipping": ("does nothing", '''
def grad_clipping(net, theta):
    pass
'''),
    "train_epoch_ch8": ("trains nothing", '''
def train_epoch_ch8(net, train_iter, loss, updater, device, use_random_iter):
    return 1.0, 1.0
'''),
}
