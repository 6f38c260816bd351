using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using IdOS.Akka.Engine.Kwil.Results;
using NSec.Cryptography;

namespace IdOS.Akka.Engine.Storage.Actions;

/// <summary>
/// The credential checks of the closed `idos` precompile, as the SDK produces what they check: `public_notes_signature` is base64 ed25519 over the public notes' UTF-8 bytes, `broader_signature` base64
/// ed25519 over that signature's bytes followed by the base64-decoded content, both by `issuer_auth_public_key`
/// (lowercase hex, no 0x).
/// </summary>
public static class CredentialProofs
{
    public static void AssertSignatures(string issuerAuthPublicKey, string publicNotes, string publicNotesSignature, string content, string broaderSignature)
    {
        ArgumentNullException.ThrowIfNull(issuerAuthPublicKey);
        var key = Ed25519Key(issuerAuthPublicKey);
        var notesSignature = Base64(publicNotesSignature, "public_notes_signature");
        if (!SignatureAlgorithm.Ed25519.Verify(key, Encoding.UTF8.GetBytes(publicNotes), notesSignature))
        {
            throw new ActionFailedException(ActionError.InvalidProof, "public_notes_signature does not verify for issuer_auth_public_key");
        }

        var contentBytes = Base64(content, "content");
        if (!SignatureAlgorithm.Ed25519.Verify(key, [.. notesSignature, .. contentBytes], Base64(broaderSignature, "broader_signature")))
        {
            throw new ActionFailedException(ActionError.InvalidProof, "broader_signature does not verify for issuer_auth_public_key");
        }
    }

    /// <summary>
    /// `idos.get_verifiable_credential_id`: the string `id` of the public notes' JSON object; null when the notes are
    /// empty, not a JSON object, or have no string id (the precompile returns '' and the schema stores NULL).
    /// </summary>
    public static string? VerifiableCredentialId(string publicNotes)
    {
        if (string.IsNullOrWhiteSpace(publicNotes))
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(publicNotes);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String && id.GetString() is { Length: > 0 } value
                ? value
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>RFC 4122 version 5 (SHA-1) UUID, as PostgreSQL's uuid_generate_v5, which names access grants.</summary>
    public static Guid UuidV5(Guid ns, string name)
    {
        var input = new byte[16 + Encoding.UTF8.GetByteCount(name)];
        ns.TryWriteBytes(input, bigEndian: true, out _);
        Encoding.UTF8.GetBytes(name, input.AsSpan(16));
#pragma warning disable CA5350 // SHA-1 is what RFC 4122 version 5 specifies; it names rows, it does not protect them.
        var hash = SHA1.HashData(input);
#pragma warning restore CA5350
        hash[6] = (byte)((hash[6] & 0x0f) | 0x50);
        hash[8] = (byte)((hash[8] & 0x3f) | 0x80);
        return new Guid(hash.AsSpan(0, 16), bigEndian: true);
    }

    private static PublicKey Ed25519Key(string hex)
    {
        byte[] bytes;
        try
        {
            bytes = Convert.FromHexString(hex);
        }
        catch (FormatException)
        {
            throw new ActionFailedException(ActionError.InvalidProof, "issuer_auth_public_key is not hex");
        }

        return bytes.Length == 32 && PublicKey.TryImport(SignatureAlgorithm.Ed25519, bytes, KeyBlobFormat.RawPublicKey, out var key) && key is not null
            ? key
            : throw new ActionFailedException(ActionError.InvalidProof, "issuer_auth_public_key is not a 32-byte ed25519 public key");
    }

    private static byte[] Base64(string text, string what)
    {
        try
        {
            return Convert.FromBase64String(text);
        }
        catch (FormatException)
        {
            throw new ActionFailedException(ActionError.InvalidProof, $"{what} is not base64");
        }
    }
}
