"""Realistic mistakes for ch09's decoding exercises; each must lose points in its own exercise."""

MUTANTS = {
    "predict_seq2seq": [
        ("forgets to append <eos> to the source tokens", '''
def predict_seq2seq(net, src_sentence, src_vocab, tgt_vocab, num_steps, device,
                    save_attention_weights=False):
    net.eval()
    src_tokens = src_vocab[src_sentence.lower().split(' ')]
    enc_valid_len = torch.tensor([len(src_tokens)], device=device)
    src_tokens = truncate_pad(src_tokens, num_steps, src_vocab['<pad>'])
    enc_X = torch.tensor([src_tokens], dtype=torch.long, device=device)
    enc_outputs = net.encoder(enc_X, enc_valid_len)
    dec_state = net.decoder.init_state(enc_outputs, enc_valid_len)
    dec_X = torch.tensor([[tgt_vocab['<bos>']]], dtype=torch.long, device=device)
    output_seq, attention_weight_seq = [], []
    for _ in range(num_steps):
        Y, dec_state = net.decoder(dec_X, dec_state)
        dec_X = Y.argmax(dim=2)
        pred = dec_X.squeeze(dim=0).type(torch.int32).item()
        if save_attention_weights:
            attention_weight_seq.append(net.decoder.attention_weights)
        if pred == tgt_vocab['<eos>']:
            break
        output_seq.append(pred)
    return ' '.join(tgt_vocab.to_tokens(output_seq)), attention_weight_seq
'''),
        ("keeps the predicted <eos> in the translation", '''
def predict_seq2seq(net, src_sentence, src_vocab, tgt_vocab, num_steps, device,
                    save_attention_weights=False):
    net.eval()
    src_tokens = src_vocab[src_sentence.lower().split(' ')] + [src_vocab['<eos>']]
    enc_valid_len = torch.tensor([len(src_tokens)], device=device)
    src_tokens = truncate_pad(src_tokens, num_steps, src_vocab['<pad>'])
    enc_X = torch.tensor([src_tokens], dtype=torch.long, device=device)
    enc_outputs = net.encoder(enc_X, enc_valid_len)
    dec_state = net.decoder.init_state(enc_outputs, enc_valid_len)
    dec_X = torch.tensor([[tgt_vocab['<bos>']]], dtype=torch.long, device=device)
    output_seq, attention_weight_seq = [], []
    for _ in range(num_steps):
        Y, dec_state = net.decoder(dec_X, dec_state)
        dec_X = Y.argmax(dim=2)
        pred = dec_X.squeeze(dim=0).type(torch.int32).item()
        if save_attention_weights:
            attention_weight_seq.append(net.decoder.attention_weights)
        output_seq.append(pred)
        if pred == tgt_vocab['<eos>']:
            break
    return ' '.join(tgt_vocab.to_tokens(output_seq)), attention_weight_seq
'''),
    ],
    "bleu": [
        ("counts every matching n-gram (no clipping)", '''
def bleu(pred_seq, label_seq, k):
    pred_tokens, label_tokens = pred_seq.split(' '), label_seq.split(' ')
    len_pred, len_label = len(pred_tokens), len(label_tokens)
    score = math.exp(min(0, 1 - len_label / len_pred))
    for n in range(1, k + 1):
        label_subs = {' '.join(label_tokens[i: i + n]) for i in range(len_label - n + 1)}
        num_matches = sum(' '.join(pred_tokens[i: i + n]) in label_subs
                          for i in range(len_pred - n + 1))
        score *= math.pow(num_matches / (len_pred - n + 1), math.pow(0.5, n))
    return score
'''),
        ("forgets the brevity penalty", '''
def bleu(pred_seq, label_seq, k):
    pred_tokens, label_tokens = pred_seq.split(' '), label_seq.split(' ')
    len_pred, len_label = len(pred_tokens), len(label_tokens)
    score = 1.0
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
    ],
    "beam_search": [
        ("counts bos in the length L of the penalty", '''
def beam_search(step, bos, eos, beam_size, max_len, alpha=0.75):
    beam, candidates = [([bos], 0.0)], []
    for _ in range(max_len):
        log_probs = step(torch.tensor([p for p, _ in beam])).tolist()
        extended = sorted(((p + [t], s + lp) for (p, s), row in zip(beam, log_probs)
                           for t, lp in enumerate(row)), key=lambda e: e[1], reverse=True)
        kept = extended[:beam_size]
        candidates += [(p, s) for p, s in kept if p[-1] == eos]
        beam = [(p, s) for p, s in kept if p[-1] != eos]
        if not beam:
            break
    candidates += beam
    prefix, log_p = max(candidates, key=lambda c: c[1] / len(c[0]) ** alpha)
    return prefix[1:], log_p / len(prefix) ** alpha
'''),
        ("picks the winner by log P alone (the length penalty only in the score)", '''
def beam_search(step, bos, eos, beam_size, max_len, alpha=0.75):
    beam, candidates = [([bos], 0.0)], []
    for _ in range(max_len):
        log_probs = step(torch.tensor([p for p, _ in beam])).tolist()
        extended = sorted(((p + [t], s + lp) for (p, s), row in zip(beam, log_probs)
                           for t, lp in enumerate(row)), key=lambda e: e[1], reverse=True)
        kept = extended[:beam_size]
        candidates += [(p[1:], s) for p, s in kept if p[-1] == eos]
        beam = [(p, s) for p, s in kept if p[-1] != eos]
        if not beam:
            break
    candidates += [(p[1:], s) for p, s in beam]
    tokens, log_p = max(candidates, key=lambda c: c[1])
    return tokens, log_p / len(tokens) ** alpha
'''),
    ],
}
