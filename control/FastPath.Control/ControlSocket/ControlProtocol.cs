namespace FastPath.Control.ControlSocket;

/// <summary>
/// The control protocol's constants. A message is a 4-byte big-endian length followed by that many bytes of UTF-8
/// JSON. Requests: <c>{"v":1,"id":7,"verb":"map.add","args":{…}}</c>; responses echo <c>v</c> and <c>id</c> with
/// either <c>"ok":true,"result":{…}</c> or <c>"ok":false,"error":{"code":"…","message":"…"}</c>.
/// </summary>
/// <remarks>
/// What happens to bad input (the connection stays usable unless said otherwise):
/// malformed JSON, a missing field, an unknown verb or version → an error response;
/// a length above <see cref="MaxRequestBytes"/> but at most <see cref="MaxSkippableBytes"/> → an error response at
/// once, the body is read and discarded;
/// a length of 0 or above <see cref="MaxSkippableBytes"/>, or a stream that ends inside a length prefix or a body →
/// an error response and the connection is closed, because the stream can no longer be framed.
/// </remarks>
public static class ControlProtocol
{
    /// <summary>The protocol version this build speaks.</summary>
    public const int Version = 1;

    /// <summary>Bytes in the length prefix.</summary>
    public const int PrefixBytes = 4;

    /// <summary>Largest request body: requests are small (a bulk import sends a file path, not the entries).</summary>
    public const int MaxRequestBytes = 64 * 1024;

    /// <summary>Largest announced length that is skipped instead of closing the connection.</summary>
    public const int MaxSkippableBytes = 16 * 1024 * 1024;

    /// <summary>Largest response a client accepts (a full <c>map.list</c> of a big table).</summary>
    public const int MaxResponseBytes = 256 * 1024 * 1024;

    /// <summary>Error code: the request could not be understood.</summary>
    public const string BadRequest = "bad-request";

    /// <summary>Error code: the request is bigger than <see cref="MaxRequestBytes"/>.</summary>
    public const string TooLarge = "too-large";

    /// <summary>Error code: the verb is not one the daemon knows.</summary>
    public const string UnknownVerb = "unknown-verb";

    /// <summary>Error code: the client speaks another protocol version.</summary>
    public const string UnsupportedVersion = "unsupported-version";

    /// <summary>Error code: the request was understood but refused (a conflicting mapping, a bad maps file).</summary>
    public const string Refused = "refused";

    /// <summary>Error code: the thing named does not exist.</summary>
    public const string NotFound = "not-found";

    /// <summary>Error code: the daemon has too many connections open.</summary>
    public const string Busy = "busy";

    /// <summary>Error code: the daemon failed while handling the request.</summary>
    public const string Internal = "internal";
}
