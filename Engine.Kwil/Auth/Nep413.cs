using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using NSec.Cryptography;

namespace IdOS.Akka.Engine.Kwil.Auth;

/// <summary>
/// NEAR's signed messages (NEP-413), as the idOS fork's `nep413` authenticator and NEAR wallets use them
///: the signature blob is `u16 BE length ‖ borsh payload ‖ ed25519 signature`, the payload
/// `{ tag = 2^31 + 413 (u32 LE), message (string), nonce ([u8; 32]), recipient (string), callbackUrl (Option&lt;string&gt;) }`,
/// and the ed25519 signature covers SHA-256 of the payload. The payload's message must be the text expected.
/// </summary>
public static class Nep413
{
    public const uint Tag = (1u << 31) + 413;

    private const string KeyPrefix = "ed25519:";

    /// <summary>
    /// The longest base58 text of a 32-byte key (32 × log 256 / log 58 rounded up). Base58 decoding is quadratic in
    /// the text's length, and the name comes from a transaction of up to 1 MiB: anything longer is refused unread.
    /// </summary>
    public const int MaxKeyBase58Length = 44;

    /// <summary>How idOS names a NEAR key: `ed25519:` and the base58 public key (Bitcoin's alphabet).</summary>
    public static string KeyName(ReadOnlySpan<byte> publicKey) => KeyPrefix + SimpleBase.Base58.Bitcoin.Encode(publicKey);

    /// <summary>The 32-byte key a NEAR key name holds, or null.</summary>
    public static byte[]? ParseKeyName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!name.StartsWith(KeyPrefix, StringComparison.Ordinal) || name.Length - KeyPrefix.Length is 0 or > MaxKeyBase58Length)
        {
            return null;
        }

        try
        {
            return SimpleBase.Base58.Bitcoin.Decode(name.AsSpan(KeyPrefix.Length)) is { Length: 32 } key ? key : null;
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    /// <summary>Null when <paramref name="blob"/> is <paramref name="publicKey"/>'s signature of <paramref name="message"/>; the reason otherwise.</summary>
    public static string? Check(ReadOnlySpan<byte> publicKey, string message, ReadOnlySpan<byte> blob)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (blob.Length < 2 + 64)
        {
            return "a nep413 signature is a length, a borsh payload and a 64-byte ed25519 signature";
        }

        var length = BinaryPrimitives.ReadUInt16BigEndian(blob);
        if (blob.Length != 2 + length + 64)
        {
            return $"the nep413 payload length {length} does not match the {blob.Length}-byte signature";
        }

        var payload = blob.Slice(2, length);
        var signed = ReadMessage(payload, out var problem);
        if (signed is null)
        {
            return $"the nep413 payload is malformed: {problem}";
        }

        if (!string.Equals(signed, message, StringComparison.Ordinal))
        {
            return "the nep413 payload signs another message";
        }

        if (!PublicKey.TryImport(SignatureAlgorithm.Ed25519, publicKey, KeyBlobFormat.RawPublicKey, out var key) || key is null)
        {
            return "the NEAR public key is not a valid ed25519 key";
        }

        return SignatureAlgorithm.Ed25519.Verify(key, SHA256.HashData(payload), blob[(2 + length)..])
            ? null
            : "the nep413 signature does not verify";
    }

    /// <summary>A signature blob, as a NEAR wallet produces one: for tests, the localnet and benchmarks.</summary>
    public static byte[] Sign(Key key, string message, ReadOnlySpan<byte> nonce, string recipient)
    {
        ArgumentNullException.ThrowIfNull(key);
        var payload = new List<byte>();
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(word, Tag);
        payload.AddRange(word.ToArray());
        WriteString(payload, message);
        payload.AddRange(nonce.ToArray());
        WriteString(payload, recipient);
        payload.Add(0);
        var bytes = payload.ToArray();
        var signature = SignatureAlgorithm.Ed25519.Sign(key, SHA256.HashData(bytes));
        var blob = new byte[2 + bytes.Length + signature.Length];
        BinaryPrimitives.WriteUInt16BigEndian(blob, checked((ushort)bytes.Length));
        bytes.CopyTo(blob, 2);
        signature.CopyTo(blob, 2 + bytes.Length);
        return blob;
    }

    private static void WriteString(List<byte> payload, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(length, bytes.Length);
        payload.AddRange(length.ToArray());
        payload.AddRange(bytes);
    }

    private static string? ReadMessage(ReadOnlySpan<byte> payload, out string? problem)
    {
        var position = 0;
        if (payload.Length < 4 || BinaryPrimitives.ReadUInt32LittleEndian(payload) != Tag)
        {
            problem = "the tag is not 2^31 + 413";
            return null;
        }

        position += 4;
        var message = ReadString(payload, ref position);
        if (message is null || payload.Length - position < 32)
        {
            problem = "the message or nonce is cut short";
            return null;
        }

        position += 32;
        if (ReadString(payload, ref position) is null || position >= payload.Length)
        {
            problem = "the recipient or callback is cut short";
            return null;
        }

        var hasCallback = payload[position++];
        if (hasCallback > 1 || (hasCallback == 1 && ReadString(payload, ref position) is null) || position != payload.Length)
        {
            problem = "the callback is malformed or bytes follow it";
            return null;
        }

        problem = null;
        return message;
    }

    private static string? ReadString(ReadOnlySpan<byte> payload, ref int position)
    {
        if (payload.Length - position < 4)
        {
            return null;
        }

        var length = BinaryPrimitives.ReadUInt32LittleEndian(payload[position..]);
        position += 4;
        if (length > (uint)(payload.Length - position))
        {
            return null;
        }

        try
        {
            var text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(payload.Slice(position, (int)length));
            position += (int)length;
            return text;
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }
}
