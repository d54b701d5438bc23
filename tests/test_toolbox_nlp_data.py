"""The chapter 15 toolbox: IMDb, SNLI and GloVe formats, and the small BERT checkpoint."""

import json

import torch

from course import bert, nlp_data


def test_imdb_layout_is_read_back(tmp_path):
    folder = tmp_path / "aclImdb"
    for split in ("train", "test"):
        for label, text in (("pos", "a great\nfilm"), ("neg", "a dull film")):
            (folder / split / label).mkdir(parents=True)
            (folder / split / label / "0_9.txt").write_text(text, encoding="utf-8")
    assert nlp_data.imdb_dir(tmp_path) == folder
    assert nlp_data.read_imdb(folder, True) == (["a greatfilm", "a dull film"], [1, 0])


def test_generated_imdb_loads_with_the_book_loader(tmp_path):
    folder = nlp_data.imdb_dir(tmp_path, num_reviews=20)
    reviews, labels = nlp_data.read_imdb(folder, False)
    assert len(reviews) == 40 and sum(labels) == 20
    train_iter, test_iter, vocab = nlp_data.load_data_imdb(8, num_steps=30, data_dir=folder)
    X, y = next(iter(train_iter))
    assert X.shape == (8, 30) and y.shape == (8,) and "great" in vocab.token_to_idx


def test_snli_format_is_read_back(tmp_path):
    folder = nlp_data.snli_dir(tmp_path, num_pairs=30)
    header = (folder / "snli_1.0_train.txt").read_text(encoding="utf-8").splitlines()[0]
    assert header.split("\t") == list(nlp_data.SNLI_COLUMNS)
    premises, hypotheses, labels = nlp_data.read_snli(folder, True)
    assert len(premises) == len(hypotheses) == len(labels) < 33
    assert "(" not in premises[0] and set(labels) <= {0, 1, 2}
    row = "neutral\t( ( A dog ) ( is ( running . ) ) )\t( The dog )\t\t\t\t\t\t\t\n"
    (tmp_path / "snli_1.0_test.txt").write_text("header\n" + row + "-\tx\ty\n",
                                                encoding="utf-8")
    assert nlp_data.read_snli(tmp_path, False) == (["A dog is running ."], ["The dog"], [2])
    train_iter, _, vocab = nlp_data.load_data_snli(4, num_steps=12, data_dir=folder)
    (p, h), y = next(iter(train_iter))
    assert p.shape == h.shape == (4, 12) and y.shape == (4,) and "<pad>" in vocab.token_to_idx


def test_glove_format_is_read_back(tmp_path):
    (tmp_path / "vec.txt").write_text("400 2\nthe 0.5 1\nfilm -1 2\n", encoding="utf-8")
    embed = nlp_data.TokenEmbedding(tmp_path)
    assert len(embed) == 3 and embed.idx_to_token == ["<unk>", "the", "film"]
    assert torch.equal(embed[["film", "zzz"]], torch.tensor([[-1.0, 2.0], [0.0, 0.0]]))
    generated = nlp_data.TokenEmbedding(nlp_data.glove_dir(tmp_path / "g"))
    great, awful = generated[["great"]][0], generated[["awful"]][0]
    assert generated.idx_to_vec.shape[1] == 16 and not torch.equal(great, awful)


def test_small_bert_checkpoint_round_trip(tmp_path):
    folder = bert.pretrained_bert_dir(tmp_path)
    vocab = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
    assert vocab[:5] == ["<unk>", "<pad>", "<cls>", "<sep>", "<mask>"] and "dog" in vocab
    net = bert.small_bert(len(vocab))
    net.load_state_dict(torch.load(folder / "pretrained.params"))
    tokens, segments = bert.get_tokens_and_segments(["a", "dog"], ["the"])
    assert tokens == ["<cls>", "a", "dog", "<sep>", "the", "<sep>"]
    assert segments == [0, 0, 0, 0, 1, 1]
    X = torch.randint(0, len(vocab), (2, 6))
    enc, mlm, nsp = net(X, torch.tensor([segments] * 2), torch.tensor([6, 4]),
                        torch.tensor([[1, 2], [3, 0]]))
    assert enc.shape == (2, 6, 32) and mlm.shape == (2, 2, len(vocab)) and nsp.shape == (2, 2)
    net.eval()
    enc = net.encoder(X, torch.zeros_like(X), torch.tensor([6, 4]))
    X2 = X.clone()
    X2[1, 4:] = 0
    again = net.encoder(X2, torch.zeros_like(X), torch.tensor([6, 4]))
    assert torch.allclose(enc[1, :4], again[1, :4], atol=1e-5)
    enc.sum().backward()
    assert net.encoder.pos_embedding.grad is not None
    H = enc.detach()
    positions = torch.tensor([[1, 2], [3, 0]])
    expected = net.mlm.mlp(torch.stack([H[0, [1, 2]], H[1, [3, 0]]]))
    assert torch.allclose(net.mlm(H, positions), expected)
