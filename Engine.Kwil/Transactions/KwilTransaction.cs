using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;

namespace IdOS.Akka.Engine.Kwil.Transactions;

/// <summary>A transaction's signature: the bytes and the authenticator that checks them (`secp256k1_ep`, `ed25519`, …).</summary>
public sealed record KwilSignature(byte[] Data, string Type);

/// <summary>What the sender signs. <paramref name="Fee"/> is null only when the encoding says nil.</summary>
public sealed record KwilTransactionBody(string Description, byte[]? Payload, string PayloadType, BigInteger? Fee, ulong Nonce, string ChainId);

/// <summary>
/// A Kwil v0.10 transaction exactly as the idOS client builds it: the binary form fixes the
/// transaction hash, and <see cref="SignedText"/> is the text a `concat` transaction's signature covers.
/// </summary>
public sealed record KwilTransaction(KwilSignature? Signature, KwilTransactionBody Body, string Serialization, byte[]? Sender)
{
    public const int MaxDescriptionBytes = 200;
    public const string ConcatSerialization = "concat";
    public const string DirectSerialization = "direct";
    private const int MaxFieldBytes = 1 << 20;
    private const int MaxShortField = 256;

    public static byte[] BodyBytes(KwilTransactionBody body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var writer = new KwilWriter();
        writer.WriteCompactString(body.Description);
        writer.WriteCompactBytes(body.Payload, body.Payload is null);
        writer.WriteCompactString(body.PayloadType);
        if (body.Fee is { } fee)
        {
            writer.WriteRaw([1]);
            writer.WriteCompactString(fee.ToString(CultureInfo.InvariantCulture));
        }
        else
        {
            writer.WriteRaw([0]);
        }

        writer.WriteU64(body.Nonce);
        writer.WriteCompactString(body.ChainId);
        return writer.ToArray();
    }

    public byte[] ToBytes()
    {
        var writer = new KwilWriter();
        writer.WriteU16(0);
        if (Signature is null)
        {
            writer.WriteCompactBytes([], isNull: true);
        }
        else
        {
            var signature = new KwilWriter();
            signature.WriteUvarint((ulong)Signature.Data.Length);
            signature.WriteRaw(Signature.Data);
            signature.WriteCompactString(Signature.Type);
            writer.WriteCompactBytes(signature.ToArray());
        }

        writer.WriteCompactBytes(BodyBytes(Body));
        writer.WriteCompactString(Serialization);
        writer.WriteCompactBytes(Sender, Sender is null);
        return writer.ToArray();
    }

    /// <summary>SHA-256 of the binary form: the hash clients see and query by.</summary>
    public byte[] Hash() => SHA256.HashData(ToBytes());

    /// <summary>The bytes the signature covers: the `concat` text, or SHA-256 of the body for `direct`.</summary>
    public byte[] SignedMessage() => Serialization switch
    {
        ConcatSerialization => Encoding.UTF8.GetBytes(SignedText(Body)),
        DirectSerialization => SHA256.HashData(BodyBytes(Body)),
        _ => throw new KwilFormatException($"serialization '{Serialization}' is not concat or direct"),
    };

    public static string SignedText(KwilTransactionBody body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var digest = Convert.ToHexStringLower(SHA256.HashData(body.Payload ?? []).AsSpan(0, 20));
        var fee = (body.Fee ?? BigInteger.Zero).ToString(CultureInfo.InvariantCulture);
        return string.Create(CultureInfo.InvariantCulture,
            $"{body.Description}\n\nPayloadType: {body.PayloadType}\nPayloadDigest: {digest}\nFee: {fee}\nNonce: {body.Nonce}\n\nKwil Chain ID: {body.ChainId}\n");
    }

    /// <summary>As <see cref="FromBytes"/>, with the reason instead of an exception.</summary>
    public static bool TryFromBytes(ReadOnlySpan<byte> bytes, [NotNullWhen(true)] out KwilTransaction? transaction, [NotNullWhen(false)] out string? error)
    {
        try
        {
            transaction = FromBytes(bytes);
            error = null;
            return true;
        }
        catch (KwilFormatException e)
        {
            transaction = null;
            error = e.Message;
            return false;
        }
    }

    /// <summary>Decodes the binary form, refusing anything malformed, oversized or trailing.</summary>
    public static KwilTransaction FromBytes(ReadOnlySpan<byte> bytes)
    {
        var reader = new KwilReader(bytes);
        var version = reader.ReadU16("transaction version");
        if (version != 0)
        {
            throw new KwilFormatException($"transaction version {version} is unknown");
        }

        var signature = reader.TryReadCompactSpan(MaxShortField * 4, "signature", out var signatureBytes) ? ReadSignature(signatureBytes) : null;
        var body = reader.TryReadCompactSpan(MaxFieldBytes + 4096, "body", out var bodyBytes)
            ? ReadBody(bodyBytes)
            : throw new KwilFormatException("the body is nil");
        var serialization = reader.ReadCompactString(MaxShortField, "serialization");
        var sender = reader.ReadCompactBytes(MaxShortField, "sender");
        reader.EnsureEnd("the transaction");
        return new KwilTransaction(signature, body, serialization, sender);
    }

    private static KwilSignature ReadSignature(ReadOnlySpan<byte> bytes)
    {
        var reader = new KwilReader(bytes);
        var length = reader.ReadUvarint("signature length");
        if (length > MaxShortField * 2)
        {
            throw new KwilFormatException($"signature of {length} bytes is too long");
        }

        var data = new byte[(int)length];
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = reader.ReadByte("signature");
        }

        var type = reader.ReadCompactString(MaxShortField, "signature type");
        reader.EnsureEnd("the signature");
        return new KwilSignature(data, type);
    }

    private static KwilTransactionBody ReadBody(ReadOnlySpan<byte> bytes)
    {
        var reader = new KwilReader(bytes);
        var description = reader.ReadCompactString(MaxDescriptionBytes, "description");
        var payload = reader.ReadCompactBytes(MaxFieldBytes, "payload");
        var type = reader.ReadCompactString(MaxShortField, "payload type");
        BigInteger? fee = reader.ReadByte("fee marker") switch
        {
            0 => null,
            1 => ParseFee(reader.ReadCompactString(80, "fee")),
            var other => throw new KwilFormatException($"fee marker {other} is not 0 or 1"),
        };
        var nonce = reader.ReadU64("nonce");
        var chainId = reader.ReadCompactString(MaxShortField, "chain id");
        reader.EnsureEnd("the body");
        return new KwilTransactionBody(description, payload, type, fee, nonce, chainId);
    }

    private static BigInteger ParseFee(string text) =>
        text.Length > 0 && text.All(char.IsAsciiDigit) && BigInteger.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var fee)
            ? fee
            : throw new KwilFormatException($"fee '{text}' is not a non-negative decimal integer");
}
