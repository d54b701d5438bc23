"""Correct ch09 decoding answers in other styles (the book's own code among them); each must
earn full marks. ``VACUOUS`` answers compute nothing and must earn nothing."""

VARIANTS = {
    "predict_seq2seq": [
        ("the book's code", '''
def predict_seq2seq(net, src_sentence, src_vocab, tgt_vocab, num_steps,
                    device, save_attention_weights=False):
    """序列到序列模型的预测"""
    # 在预测时将net设置为评估模式
    net.eval()
    src_tokens = src_vocab[src_sentence.lower().split(' ')] + [
        src_vocab['<eos>']]
    enc_valid_len = torch.tensor([len(src_tokens)], device=device)
    src_tokens = truncate_pad(src_tokens, num_steps, src_vocab['<pad>'])
    # 添加批量轴
    enc_X = torch.unsqueeze(
        torch.tensor(src_tokens, dtype=torch.long, device=device), dim=0)
    enc_outputs = net.encoder(enc_X, enc_valid_len)
    dec_state = net.decoder.init_state(enc_outputs, enc_valid_len)
    # 添加批量轴
    dec_X = torch.unsqueeze(torch.tensor(
        [tgt_vocab['<bos>']], dtype=torch.long, device=device), dim=0)
    output_seq, attention_weight_seq = [], []
    for _ in range(num_steps):
        Y, dec_state = net.decoder(dec_X, dec_state)
        # 我们使用具有预测最高可能性的词元，作为解码器在下一时间步的输入
        dec_X = Y.argmax(dim=2)
        pred = dec_X.squeeze(dim=0).type(torch.int32).item()
        # 保存注意力权重（稍后讨论）
        if save_attention_weights:
            attention_weight_seq.append(net.decoder.attention_weights)
        # 一旦序列结束词元被预测，输出序列的生成就完成了
        if pred == tgt_vocab['<eos>']:
            break
        output_seq.append(pred)
    return ' '.join(tgt_vocab.to_tokens(output_seq)), attention_weight_seq
'''),
        ("no_grad, Python ints fed back, a valid length capped at num_steps", '''
def predict_seq2seq(net, src_sentence, src_vocab, tgt_vocab, num_steps, device,
                    save_attention_weights=False):
    net.eval()
    words = src_sentence.lower().split(' ')
    tokens = [src_vocab[w] for w in words] + [src_vocab['<eos>']]
    valid = torch.tensor([min(len(tokens), num_steps)], device=device)
    enc_X = torch.tensor([truncate_pad(tokens, num_steps, src_vocab['<pad>'])],
                         device=device)
    bos, eos = tgt_vocab['<bos>'], tgt_vocab['<eos>']
    outputs, weights = [], []
    with torch.no_grad():
        state = net.decoder.init_state(net.encoder(enc_X, valid), valid)
        token = bos
        while len(outputs) < num_steps:
            Y, state = net.decoder(torch.tensor([[token]], device=device), state)
            token = int(Y[0, -1].argmax())
            if save_attention_weights:
                weights.append(net.decoder.attention_weights)
            if token == eos:
                break
            outputs.append(token)
    return ' '.join(tgt_vocab.to_tokens(outputs)), weights
'''),
    ],
    "bleu": [
        ("the book's code", '''
def bleu(pred_seq, label_seq, k):  #@save
    """计算BLEU"""
    pred_tokens, label_tokens = pred_seq.split(' '), label_seq.split(' ')
    len_pred, len_label = len(pred_tokens), len(label_tokens)
    score = math.exp(min(0, 1 - len_label / len_pred))
    for n in range(1, k + 1):
        num_matches, label_subs = 0, collections.defaultdict(int)
        for i in range(len_label - n + 1):
            label_subs[' '.join(label_tokens[i: i + n])] += 1
        for i in range(len_pred - n + 1):
            if label_subs[' '.join(pred_tokens[i: i + n])] > 0:
                num_matches += 1
                label_subs[' '.join(pred_tokens[i: i + n])] -= 1
        score *= math.pow(num_matches / (len_pred - n + 1), math.pow(0.5, n))
    return score
'''),
        ("Counter intersections summed in log space", '''
def bleu(pred_seq, label_seq, k):
    pred, label = pred_seq.split(' '), label_seq.split(' ')
    log_score = min(0.0, 1 - len(label) / len(pred))
    for n in range(1, k + 1):
        grams = collections.Counter(zip(*[pred[i:] for i in range(n)]))
        refs = collections.Counter(zip(*[label[i:] for i in range(n)]))
        matches = sum((grams & refs).values())
        if matches == 0:
            return 0.0
        log_score += 0.5 ** n * math.log(matches / (len(pred) - n + 1))
    return math.exp(log_score)
'''),
    ],
    "beam_search": [
        ("Python lists, one step call per prefix, sorted()", '''
def beam_search(step, bos, eos, beam_size, max_len, alpha=0.75):
    beam = [((bos,), 0.0)]
    finished = []
    for _ in range(max_len):
        extensions = []
        for prefix, total in beam:
            row = step(torch.tensor([prefix]))[0].tolist()
            extensions += [(prefix + (token,), total + lp) for token, lp in enumerate(row)]
        extensions.sort(key=lambda item: item[1], reverse=True)
        beam = []
        for prefix, total in extensions[:beam_size]:
            (finished if prefix[-1] == eos else beam).append((prefix, total))
        if not beam:
            break
    best, best_score = None, -float('inf')
    for prefix, total in finished + beam:
        score = total / (len(prefix) - 1) ** alpha
        if score > best_score:
            best, best_score = list(prefix[1:]), score
    return best, best_score
'''),
        ("one tensor of prefixes, finished rows masked with -inf, sort instead of topk", '''
def beam_search(step, bos, eos, beam_size, max_len, alpha=0.75):
    prefixes = torch.full((1, 1), bos, dtype=torch.long)
    scores = torch.zeros(1, dtype=torch.float64)
    alive = torch.ones(1, dtype=torch.bool)
    done_tokens, done_scores = [], []
    for t in range(max_len):
        log_probs = step(prefixes)
        device = log_probs.device
        prefixes, scores, alive = prefixes.to(device), scores.to(device), alive.to(device)
        totals = torch.where(alive.unsqueeze(1), scores.unsqueeze(1) + log_probs,
                             torch.full_like(log_probs, -float('inf')))
        order = torch.sort(totals.flatten(), descending=True).indices[:beam_size]
        order = order[torch.isfinite(totals.flatten()[order])]
        V = log_probs.shape[1]
        rows, cols = order // V, order % V
        prefixes = torch.cat([prefixes[rows], cols[:, None]], dim=1)
        scores = totals.flatten()[order]
        alive = cols != eos
        for i in torch.nonzero(~alive).flatten().tolist():
            done_tokens.append(prefixes[i, 1:].tolist())
            done_scores.append(scores[i].item())
        if not alive.any():
            break
    for i in torch.nonzero(alive).flatten().tolist():
        done_tokens.append(prefixes[i, 1:].tolist())
        done_scores.append(scores[i].item())
    normalised = torch.tensor(done_scores, dtype=torch.float64) / torch.tensor(
        [len(t) for t in done_tokens], dtype=torch.float64) ** alpha
    best = int(normalised.argmax())
    return done_tokens[best], float(normalised[best])
'''),
    ],
}

VACUOUS = {
    "predict_seq2seq": ("returns an empty translation", '''
def predict_seq2seq(net, src_sentence, src_vocab, tgt_vocab, num_steps, device,
                    save_attention_weights=False):
    return '', []
'''),
    "bleu": ("returns a perfect score", '''
def bleu(pred_seq, label_seq, k):
    return 1.0
'''),
    "beam_search": ("returns <eos> alone", '''
def beam_search(step, bos, eos, beam_size, max_len, alpha=0.75):
    return [eos], 0.0
'''),
}
