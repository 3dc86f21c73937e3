@media
Feature: A 4-person video group call is a full mesh of peer connections
  Each member receives every other member's audio and video, tagged with its user id; a member
  who leaves takes its tracks with it.

  Scenario: four members see each other, then carol leaves
    Given a media session with alice, bob, carol and dave
    When alice calls bob, carol and dave with video
    And bob accepts
    And carol accepts
    And dave accepts
    Then dave receives alice's video within 2000 ms
    And alice receives dave's video within 2000 ms
    And carol receives bob's audio within 2000 ms
    When media flows for 2 s
    Then dave hears carol's tone
    And bob hears dave's tone
    And no participant receives its own audio
    And dave's tracks are:
      | owner | kind  | local | state |
      | alice | audio | no    | live  |
      | alice | video | no    | live  |
      | bob   | audio | no    | live  |
      | bob   | video | no    | live  |
      | carol | audio | no    | live  |
      | carol | video | no    | live  |
      | dave  | audio | yes   | live  |
      | dave  | video | yes   | live  |
    When carol hangs up
    Then dave's tracks are:
      | owner | kind  | local | state |
      | alice | audio | no    | live  |
      | alice | video | no    | live  |
      | bob   | audio | no    | live  |
      | bob   | video | no    | live  |
      | dave  | audio | yes   | live  |
      | dave  | video | yes   | live  |
    And dave receives no video from carol for 500 ms
