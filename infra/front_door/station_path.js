// CloudFront Function (viewer request, cloudfront-js-2.0) of the station front door.
// OCPP-J puts the station identity last in the path (wss://host/ocpp/CP001), but API Gateway WebSocket
// accepts no path after its stage: the identity moves into the query string the authorizer reads and
// the path becomes the stage. Anything else is answered 404 here, before reaching API Gateway.
var PREFIX = '__OCPP_PATH_PREFIX__';
var STAGE_PATH = '/__STAGE_NAME__';
var PARAMETER = '__CHARGE_POINT_ID_PARAMETER__';
// The station identity rule of csms/domain/station_identity.py, filled in at synthesis.
var STATION_ID = new RegExp('__STATION_ID_PATTERN__');

function notFound() {
    return { statusCode: 404, statusDescription: 'Not Found' };
}

function badIdentity() {
    return { statusCode: 400, statusDescription: 'Bad Request' };
}

function handler(event) {
    var request = event.request;
    if (request.uri.indexOf(PREFIX) !== 0) {
        return notFound();
    }
    var identity;
    try {
        identity = decodeURIComponent(request.uri.substring(PREFIX.length));
    } catch (malformed) {
        return badIdentity();  // invalid UTF-8 or a broken escape
    }
    if (!STATION_ID.test(identity)) {
        return badIdentity();
    }
    request.uri = STAGE_PATH;
    // Replaces whatever query the station sent: the identity comes from the path and nowhere else.
    request.querystring = PARAMETER + '=' + encodeURIComponent(identity);
    return request;
}
