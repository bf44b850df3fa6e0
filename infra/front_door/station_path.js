// CloudFront Function (viewer request, cloudfront-js-2.0) of the station front door.
// OCPP-J puts the station identity last in the path (wss://host/ocpp/CP001), but API Gateway WebSocket
// accepts no path after its stage: the identity moves into the query string the authorizer reads and
// the path becomes the stage. Anything else is answered 404 here, before reaching API Gateway.
var PREFIX = '__OCPP_PATH_PREFIX__';
var STAGE_PATH = '/__STAGE_NAME__';
var PARAMETER = '__CHARGE_POINT_ID_PARAMETER__';
var MAX_IDENTITY_LENGTH = 255;

function notFound() {
    return { statusCode: 404, statusDescription: 'Not Found' };
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
        return notFound();
    }
    if (identity.length === 0 || identity.length > MAX_IDENTITY_LENGTH || identity.indexOf('/') !== -1) {
        return notFound();
    }
    request.uri = STAGE_PATH;
    // Replaces whatever query the station sent: the identity comes from the path and nowhere else.
    request.querystring = PARAMETER + '=' + encodeURIComponent(identity);
    return request;
}
