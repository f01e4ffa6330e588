namespace FastPath.Control;

/// <summary>
/// A maps or config file is malformed or inconsistent. The message says where: the file, then a
/// JSON path (<c>mappings[3].user</c>) or a line and column, then what is wrong. The CLI exits 2.
/// </summary>
public sealed class InputFileException(string message) : Exception(message);
