import Bulletins
import Gateway
@testable import Intake
import Testing

@Suite("intake reads the Content-Type's essence: before any parameter, case-insensitive, around HTTP's optional whitespace")
struct MediaTypeTests {
    @Test("XML and JWS media types, with parameters, spaces, tabs and upper case", arguments: [
        ("application/xml", BulletinEncoding.xml), ("text/xml; charset=utf-8", .xml), (" \tApplication/XML\t ;q=1", .xml),
        ("application/jose+json", .json), ("APPLICATION/JOSE", .json), ("application/jose+json ; charset=utf-8", .json),
    ])
    func accepted(mediaType: String, encoding: BulletinEncoding) throws {
        #expect(try BulletinIntake.encoding(mediaType) == encoding)
    }

    @Test("anything else is unsupported-media-type (415), naming what was sent", arguments: [
        "application/json", "application/jose+json2", "application /xml", "", ";application/xml",
    ])
    func refused(mediaType: String) {
        #expect {
            try BulletinIntake.encoding(mediaType)
        } throws: { error in
            guard let error = error as? GatewayError else { return false }
            return error.code == .unsupportedMediaType && Problem(error).status == 415
                && error.detail.hasSuffix("not \(mediaType.isEmpty || mediaType.hasPrefix(";") ? "nothing" : mediaType.lowercased())")
        }
    }

    @Test("no Content-Type at all is refused the same way")
    func missing() {
        #expect(throws: GatewayError.self) { try BulletinIntake.encoding(nil) }
    }
}
