using System.Text.Json;

namespace IdOS.Akka.Engine.Tests.Vectors;

/// <summary>EIP-191 signatures made by ethers (tools/vectors/eip191.mjs): 4 fixed keys × 4 messages.</summary>
internal static class EthersVectors
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNameCaseInsensitive = true };

    private static readonly Lazy<List<EthersVector>> Loaded = new(() =>
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Vectors", "eip191.json");
        return JsonSerializer.Deserialize<VectorFile>(File.ReadAllText(path), Json)!.Vectors;
    });

    public static IReadOnlyList<EthersVector> All => Loaded.Value;

    public static byte[] Hex(string hex) => Convert.FromHexString(hex.StartsWith("0x", StringComparison.Ordinal) ? hex[2..] : hex);

    private sealed record VectorFile(string Generator, List<EthersVector> Vectors);
}

internal sealed record EthersVector(string PrivateKey, string Address, string Message, string Digest, string Signature, string MalleatedSignature, string RecoveredPublicKey)
{
    public string MessageText => System.Text.Encoding.UTF8.GetString(EthersVectors.Hex(Message));
}
