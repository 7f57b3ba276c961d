// Downloader: HTTP(S) download into a ".part" file that survives interruption; a second run asks the
// server for the remaining bytes (Range) and appends them.
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

public struct DownloadProgress: Sendable {
    public let received: Int64
    public let total: Int64?
    public let resumedFrom: Int64
}

public enum DownloadError: Error, CustomStringConvertible, Sendable {
    case http(url: String, status: Int)
    case transport(url: String, message: String)
    case io(path: String, message: String)

    public var description: String {
        switch self {
        case let .http(url, status): return "download of \(url) failed: HTTP \(status)"
        case let .transport(url, message): return "download of \(url) failed: \(message); run the command again to resume"
        case let .io(path, message): return "cannot write \(path): \(message)"
        }
    }
}

public enum Downloader {
    /// Downloads `url` to `partialPath`, resuming from its current size. Returns when the file is complete.
    public static func download(_ url: URL, to partialPath: String, progress: @escaping @Sendable (DownloadProgress) -> Void) throws {
        let fm = FileManager.default
        if !fm.fileExists(atPath: partialPath) { fm.createFile(atPath: partialPath, contents: nil) }
        let offset = (try? fm.attributesOfItem(atPath: partialPath)[.size] as? Int64) ?? 0
        let task = DownloadTask(url: url, path: partialPath, offset: offset ?? 0, progress: progress)
        try task.run()
    }
}

/// One transfer: streams the body to the end of the partial file.
private final class DownloadTask: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    let url: URL
    let path: String
    var offset: Int64
    let progress: @Sendable (DownloadProgress) -> Void
    private var handle: FileHandle?
    private var received: Int64 = 0
    private var total: Int64?
    private var failure: Error?
    private let finished = DispatchSemaphore(value: 0)
    private var lastReport = DispatchTime.now()

    init(url: URL, path: String, offset: Int64, progress: @escaping @Sendable (DownloadProgress) -> Void) {
        self.url = url
        self.path = path
        self.offset = offset
        self.progress = progress
    }

    func run() throws {
        var request = URLRequest(url: url)
        request.timeoutInterval = 120
        if offset > 0 { request.setValue("bytes=\(offset)-", forHTTPHeaderField: "Range") }
        let session = URLSession(configuration: .ephemeral, delegate: self, delegateQueue: nil)
        session.dataTask(with: request).resume()
        finished.wait()
        session.finishTasksAndInvalidate()
        try? handle?.close()
        if let failure { throw failure }
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        do {
            switch status {
            case 206:
                handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
                try handle?.seekToEnd()
                total = response.expectedContentLength >= 0 ? offset + response.expectedContentLength : nil
            case 200:
                // The server ignored the range: start from the beginning.
                offset = 0
                handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
                try handle?.truncate(atOffset: 0)
                total = response.expectedContentLength >= 0 ? response.expectedContentLength : nil
            case 416:
                // Nothing left to fetch: the partial file is already complete.
                total = offset
                completionHandler(.cancel)
                return
            default:
                failure = DownloadError.http(url: url.absoluteString, status: status)
                completionHandler(.cancel)
                return
            }
            completionHandler(.allow)
        } catch {
            failure = DownloadError.io(path: path, message: "\(error)")
            completionHandler(.cancel)
        }
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        do {
            try handle?.write(contentsOf: data)
        } catch {
            failure = DownloadError.io(path: path, message: "\(error)")
            dataTask.cancel()
            return
        }
        received += Int64(data.count)
        let now = DispatchTime.now()
        if now.uptimeNanoseconds - lastReport.uptimeNanoseconds > 100_000_000 {
            lastReport = now
            progress(DownloadProgress(received: offset + received, total: total, resumedFrom: offset))
        }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        if let error, failure == nil, (error as NSError).code != NSURLErrorCancelled {
            failure = DownloadError.transport(url: url.absoluteString, message: error.localizedDescription)
        }
        if failure == nil { progress(DownloadProgress(received: offset + received, total: total ?? offset + received, resumedFrom: offset)) }
        finished.signal()
    }
}
