using IdOS.Akka.Engine.Cli;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Hosting;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Hosting;

[Trait("Category", "Unit")]
public sealed class NodeFileTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("idos-keys-");

    public void Dispose() => _dir.Delete(recursive: true);

    private string PathOf(string name) => Path.Combine(_dir.FullName, name);

    [Fact]
    public void A_generated_key_reads_back_as_the_same_key_and_only_its_owner_can_read_it()
    {
        var publicKey = KeyFiles.Generate(PathOf("v1.key"));

        using var key = KeyFiles.ReadPrivate(PathOf("v1.key"));

        Assert.Equal(publicKey, key.PublicKey);
        Assert.Equal(publicKey, KeyFiles.ReadPublic(PathOf("v1.key.pub")));
        Assert.Equal(publicKey, KeyFiles.ReadPublic(PathOf("v1.key")));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(PathOf("v1.key")));
        }
    }

    [Fact]
    public void A_key_is_never_overwritten()
    {
        KeyFiles.Generate(PathOf("v1.key"));
        var before = File.ReadAllText(PathOf("v1.key"));

        var error = Assert.Throws<NodeFileException>(() => KeyFiles.Generate(PathOf("v1.key")));

        Assert.Contains("already exists", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllText(PathOf("v1.key")));
    }

    [Theory]
    [InlineData("public_key", "does not belong to private_seed")]
    [InlineData("private_seed", "does not belong to private_seed")]
    [InlineData("type", "is not a validator key file")]
    public void A_damaged_key_file_is_refused_with_the_reason(string field, string reason)
    {
        KeyFiles.Generate(PathOf("v1.key"));
        var other = KeyFiles.Generate(PathOf("v2.key"));
        var text = File.ReadAllText(PathOf("v1.key"));
        var damaged = field switch
        {
            "public_key" => System.Text.RegularExpressions.Regex.Replace(text, "\"public_key\": \"[0-9a-f]+\"", $"\"public_key\": \"{other}\""),
            "private_seed" => System.Text.RegularExpressions.Regex.Replace(text, "(\"private_seed\": \")([0-9a-f])",
                m => m.Groups[1].Value + (m.Groups[2].Value == "0" ? "1" : "0")),
            _ => text.Replace(KeyFiles.PrivateKeyType, "something-else", StringComparison.Ordinal),
        };
        File.WriteAllText(PathOf("damaged.key"), damaged);

        var error = Assert.Throws<NodeFileException>(() => KeyFiles.ReadPrivate(PathOf("damaged.key")));

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        Assert.Contains("damaged.key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_or_unreadable_files_name_the_file()
    {
        File.WriteAllText(PathOf("junk.key"), "{ not json");

        Assert.Contains("cannot be read", Assert.Throws<NodeFileException>(() => KeyFiles.ReadPrivate(PathOf("absent.key"))).Message, StringComparison.Ordinal);
        Assert.Contains("junk.key is not a key file", Assert.Throws<NodeFileException>(() => KeyFiles.ReadPublic(PathOf("junk.key"))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Genesis_from_public_key_files_keeps_their_order_and_reads_back_to_the_same_chain()
    {
        var keys = Enumerable.Range(1, 4).Select(i => KeyFiles.Generate(PathOf($"v{i}.key"))).ToList();
        var output = new StringWriter();

        var exit = KeyCommands.Genesis(
            ["--validators", string.Join(",", Enumerable.Range(1, 4).Select(i => PathOf($"v{i}.key.pub"))), "--out", PathOf("genesis.json"),
             "--chain-id", "test-net", "--genesis-time", "2026-11-23T00:00:00Z"],
            output);
        var chain = GenesisFile.Read(PathOf("genesis.json"));

        Assert.Equal(0, exit);
        Assert.Equal("test-net", chain.ChainId);
        Assert.Equal(keys, Enumerable.Range(0, 4).Select(i => chain.Validators[i]));
        Assert.Equal(new DateTimeOffset(2026, 11, 23, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds(), chain.GenesisBlock.Header.Timestamp);
        Assert.Contains(chain.GenesisBlock.Id.ToString(), output.ToString(), StringComparison.Ordinal);
        Assert.Equal(chain.GenesisBlock.Id, GenesisFile.Read(PathOf("genesis.json")).GenesisBlock.Id);
    }

    [Fact]
    public void A_genesis_with_a_repeated_or_invalid_key_is_refused()
    {
        var key = KeyFiles.Generate(PathOf("v1.key"));

        var repeated = Assert.Throws<NodeFileException>(() =>
            GenesisFile.Write(PathOf("g1.json"), "net", DateTimeOffset.UnixEpoch, [key, key]));
        File.WriteAllText(PathOf("g2.json"), """{"chain_id":"net","genesis_time":"2026-11-23T00:00:00.000Z","validators":["abcd"]}""");
        File.WriteAllText(PathOf("g3.json"), """{"chain_id":"net","genesis_time":"yesterday","validators":[]}""");
        File.WriteAllText(PathOf("g4.json"), """{"chain_id":"net","genesis_time":"2026-11-23T00:00:00.000Z","validators":[],"extra":1}""");

        Assert.Contains("appears twice", repeated.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(PathOf("g1.json")));
        Assert.Contains("validators[0] is 2 bytes", Assert.Throws<NodeFileException>(() => GenesisFile.Read(PathOf("g2.json"))).Message, StringComparison.Ordinal);
        Assert.Contains("genesis_time", Assert.Throws<NodeFileException>(() => GenesisFile.Read(PathOf("g3.json"))).Message, StringComparison.Ordinal);
        Assert.Contains("not a genesis file", Assert.Throws<NodeFileException>(() => GenesisFile.Read(PathOf("g4.json"))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_new_genesis_chooses_leaders_by_reputation_and_a_file_without_the_field_keeps_rotation_and_its_genesis_block()
    {
        var keys = Enumerable.Range(1, 4).Select(i => KeyFiles.Generate(PathOf($"v{i}.key"))).ToList();
        using var output = new StringWriter();

        Assert.Equal(0, KeyCommands.Genesis(["--validators", string.Join(',', keys.Select((_, i) => PathOf($"v{i + 1}.key.pub"))), "--out", PathOf("g.json"),
            "--genesis-time", "2026-11-23T00:00:00.000Z"], output));
        Assert.Equal(0, KeyCommands.Genesis(["--validators", string.Join(',', keys.Select((_, i) => PathOf($"v{i + 1}.key.pub"))), "--out", PathOf("r.json"),
            "--genesis-time", "2026-11-23T00:00:00.000Z", "--leaders", "rotation"], output));

        var reputation = GenesisFile.Read(PathOf("g.json"));
        var rotation = GenesisFile.Read(PathOf("r.json"));
        Assert.Equal(Engine.Consensus.LeaderReputationPolicy.For(4), reputation.LeaderReputation);
        Assert.False(rotation.LeaderReputation.IsOn);
        Assert.NotEqual(reputation.GenesisBlock.Id, rotation.GenesisBlock.Id);
        Assert.Contains("leaders by reputation over 8 blocks", output.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("leader_reputation", File.ReadAllText(PathOf("r.json")), StringComparison.Ordinal);

        var unbounded = File.ReadAllText(PathOf("g.json")).Replace("\"exclude_rounds\": 6", "\"exclude_rounds\": 1", StringComparison.Ordinal);
        File.WriteAllText(PathOf("bad.json"), unbounded);
        Assert.Contains("exclude rounds 1 is outside", Assert.Throws<NodeFileException>(() => GenesisFile.Read(PathOf("bad.json"))).Message, StringComparison.Ordinal);
        Assert.Contains("--leaders", Assert.Throws<UsageException>(() => KeyCommands.Genesis(["--validators", PathOf("v1.key.pub"), "--out", PathOf("x.json"),
            "--leaders", "fastest"], output)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_snapshot_interval_is_bound_into_genesis_and_a_file_without_it_keeps_the_default_and_its_genesis_block()
    {
        KeyFiles.GenerateValidator(PathOf("v1.key"));
        var output = new StringWriter();
        Assert.Equal(0, KeyCommands.Genesis(["--validators", PathOf("v1.key.pub"), "--out", PathOf("s.json"), "--genesis-time", "2026-11-23T00:00:00.000Z",
            "--snapshot-interval", "50"], output));
        Assert.Equal(0, KeyCommands.Genesis(["--validators", PathOf("v1.key.pub"), "--out", PathOf("d.json"), "--genesis-time", "2026-11-23T00:00:00.000Z"], output));

        var every50 = GenesisFile.Read(PathOf("s.json"));
        var byDefault = GenesisFile.Read(PathOf("d.json"));
        Assert.Equal(50, every50.SnapshotInterval);
        Assert.Equal(ChainParameters.DefaultSnapshotInterval, byDefault.SnapshotInterval);
        Assert.NotEqual(every50.GenesisBlock.Id, byDefault.GenesisBlock.Id);
        Assert.Contains("a state snapshot every 50 blocks", output.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("snapshot_interval", File.ReadAllText(PathOf("d.json")), StringComparison.Ordinal);
        Assert.Equal(byDefault.GenesisBlock.Id, new ChainParameters(byDefault.ChainId, byDefault.Validators, byDefault.GenesisBlock.Header.Timestamp,
            leaderReputation: byDefault.LeaderReputation).GenesisBlock.Id);

        File.WriteAllText(PathOf("bad.json"), File.ReadAllText(PathOf("s.json")).Replace("\"snapshot_interval\": 50", "\"snapshot_interval\": -1", StringComparison.Ordinal));
        Assert.Contains("snapshot_interval is -1", Assert.Throws<NodeFileException>(() => GenesisFile.Read(PathOf("bad.json"))).Message, StringComparison.Ordinal);
        Assert.Contains("--snapshot-interval", Assert.Throws<UsageException>(() => KeyCommands.Genesis(["--validators", PathOf("v1.key.pub"), "--out", PathOf("x.json"),
            "--snapshot-interval", "often"], output)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Keygen_binds_the_tls_pin_to_the_validator_key_and_genesis_refuses_a_pin_moved_to_another_validator()
    {
        var first = KeyFiles.GenerateValidator(PathOf("v1/validator.key"));
        var second = KeyFiles.GenerateValidator(PathOf("v2/validator.key"));
        Assert.Equal(TlsFiles.PinOf(PathOf("v1/tls.crt")), Assert.Single(first.TlsPins).Pin);
        Assert.Equal(first, KeyFiles.ReadValidator(PathOf("v1/validator.key.pub")), new ValidatorComparer());

        GenesisFile.Write(PathOf("g.json"), "net", DateTimeOffset.UnixEpoch, [first, second]);
        Assert.Equal([first.TlsPins[0].Pin, second.TlsPins[0].Pin], GenesisFile.ReadValidators(PathOf("g.json")).Select(v => v.TlsPins[0].Pin));

        var swapped = File.ReadAllText(PathOf("g.json")).Replace(first.TlsPins[0].Pin.ToString(), second.TlsPins[0].Pin.ToString(), StringComparison.Ordinal);
        File.WriteAllText(PathOf("swapped.json"), swapped);
        var error = Assert.Throws<NodeFileException>(() => GenesisFile.ReadValidators(PathOf("swapped.json")));
        Assert.Contains("validators[0].tls_pins[0] is not signed by validator 0's key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_rotated_certificate_is_signed_by_the_existing_key_and_sits_beside_the_old_pin_in_genesis()
    {
        var validator = KeyFiles.GenerateValidator(PathOf("v1/validator.key"));
        using var output = new StringWriter();

        Assert.Equal(0, KeyCommands.Keygen(["--tls", "--key", PathOf("v1/validator.key"), "--out", PathOf("v1/tls-2.crt")], output));

        var entry = System.Text.Json.Nodes.JsonNode.Parse(output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1])!;
        var rotated = new Engine.Network.SignedTlsPin(Engine.Network.TlsPin.TryParse((string?)entry["pin"])!.Value, Convert.FromHexString((string)entry["signature"]!));
        Assert.Equal(TlsFiles.PinOf(PathOf("v1/tls-2.crt")), rotated.Pin);
        GenesisFile.Write(PathOf("g.json"), "net", DateTimeOffset.UnixEpoch, [validator with { TlsPins = [.. validator.TlsPins, rotated] }]);
        Assert.Equal(2, GenesisFile.ReadValidators(PathOf("g.json"))[0].TlsPins.Count);
    }

    private sealed class ValidatorComparer : IEqualityComparer<GenesisValidator>
    {
        public bool Equals(GenesisValidator? x, GenesisValidator? y) =>
            x is not null && y is not null && x.Key.Equals(y.Key) && x.TlsPins.Select(p => p.Pin).SequenceEqual(y.TlsPins.Select(p => p.Pin));

        public int GetHashCode(GenesisValidator obj) => obj.Key.GetHashCode();
    }
}
